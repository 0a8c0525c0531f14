"""Documents as the reader sees them: article headlines and cleaned paragraphs, from the index."""

from __future__ import annotations

import mimetypes
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

from qa.errors import ApiError
from qa.index.search_index import SearchIndex

MEDIA_TYPES = {
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".markdown": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def resolve(index: SearchIndex, doc: str) -> str:
    """The indexed name ``doc`` refers to (uploads store names NFC), or 400/404."""
    if ".." in doc.split("/") or doc.startswith("/") or "\\" in doc:
        raise ApiError(
            400, "invalid_document", f"invalid document name {doc!r}: use a name from /api/documents"
        )
    if doc not in index.documents and unicodedata.normalize("NFC", doc) in index.documents:
        doc = unicodedata.normalize("NFC", doc)
    if doc not in index.documents:
        raise ApiError(404, "unknown_document", f"no document named {doc!r}; see /api/documents")
    return doc


def source_file(index: SearchIndex, doc: str) -> tuple[Path, str]:
    """The original file of an indexed document and its media type; only a regular file inside the corpus folder.

    The file may have changed since it was indexed (a server catches up with
    its folder); what is served is what is on disk now.
    """
    name = resolve(index, doc)
    root = os.path.realpath(index.manifest.corpus_dir)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([path, root]) != root:
        raise ApiError(404, "unknown_document", f"no document named {name!r} in the corpus folder")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if not stat.S_ISREG(mode):
        raise ApiError(404, "unknown_document", f"{name!r} is indexed but no longer in the corpus folder")
    suffix = Path(name).suffix.lower()
    return Path(path), MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def summaries(index: SearchIndex) -> list[dict[str, Any]]:
    return [
        {
            "doc": name,
            "titles": info.get("titles", []),
            "chunks": info.get("chunks", 0),
            "metadata": info.get("metadata", {}),
        }
        for name, info in index.documents.items()
    ]


def detail(index: SearchIndex, doc: str) -> dict[str, Any]:
    articles: dict[int, dict[str, Any]] = {}
    for chunk in index.document_chunks(doc):
        article = articles.setdefault(
            chunk.article, {"article": chunk.article, "title": chunk.title, "paragraphs": []}
        )
        article["paragraphs"].append(
            {
                "paragraph": chunk.paragraph,
                "text": chunk.text,
                "start": chunk.start,
                "end": chunk.end,
                "line_start": chunk.line_start,
                "line_end": chunk.line_end,
            }
        )
    return {
        "doc": doc,
        "metadata": index.documents[doc].get("metadata", {}),
        "articles": [articles[i] for i in sorted(articles)],
    }
