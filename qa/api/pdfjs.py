"""pdf.js for the chat page's PDF page view, served from the copy scripts/fetch_pdfjs.sh unpacks.

The package is fetched at setup rather than committed (megabytes of vendor
code in every clone); when it is missing the server still starts, logs how to
get it, and the page shows PDF citations as text, as it does other formats.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

PREFIX = "/pdfjs"
# A module script and a worker module must come as JavaScript; .bcmap and .pfb have no type Python knows.
MEDIA_TYPES = {
    ".mjs": "text/javascript",
    ".bcmap": "application/octet-stream",
    ".pfb": "application/octet-stream",
}
# Fetched once per version: the folder holds one pinned version, so a long cache is safe for a day.
CACHE = "public, max-age=86400"

log = logging.getLogger("wenyuan.pdfjs")


class PdfjsFiles(StaticFiles):
    """StaticFiles with JavaScript's media type for ``.mjs`` whatever the system's mime tables say."""

    def file_response(
        self,
        full_path: os.PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type:
            response.headers["content-type"] = media_type
        response.headers["cache-control"] = CACHE
        return response


def installed(folder: Path) -> str | None:
    """The pdfjs-dist version unpacked in ``folder``, or None when the page view cannot be served from it."""
    try:
        version = (folder / "VERSION").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    needed = (folder / "build" / "pdf.min.mjs", folder / "build" / "pdf.worker.min.mjs", folder / "cmaps")
    return version if all(p.exists() for p in needed) else None


def add_pdfjs(app: FastAPI, folder: Path) -> None:
    """Serve pdf.js at /pdfjs/ when it is installed; otherwise say once how to install it."""
    version = installed(folder)
    if version is None:
        log.warning(
            "pdf.js is not installed in %s: PDF citations show as text on the chat page; "
            "run scripts/fetch_pdfjs.sh (needs npm) to show them on the PDF page",
            folder,
        )
        return
    app.mount(PREFIX, PdfjsFiles(directory=folder), name="pdfjs")
