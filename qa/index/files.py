"""Files as every part of an index writes them: JSON (UTF-8, characters as they are), each file whole or not at all."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def json_bytes(data: Any, indent: int | None = None) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=indent).encode("utf-8")


def write_json(path: Path, data: Any) -> None:
    path.write_bytes(json_bytes(data))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def replace_atomically(
    path: Path,
    write: Callable[[BinaryIO], object],
    temporary: Path | None = None,
    durable: bool = False,
) -> None:
    """Write beside ``path``, then rename over it: a reader, a crash or a failed ``write`` leaves the old file whole.

    The temporary is new per call (``.NAME.TOKEN.tmp``, or ``temporary``, which the caller makes
    unique), so two writers of one file never share it; ``O_EXCL`` with mode 0666 so the umask
    applies (``mkstemp`` forces 0600). ``durable`` syncs the file before the rename and the folder
    after it, for what a power cut must not lose: documents and the manifest.
    """
    tmp = temporary or path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        fsync(path.parent)


def fsync(path: Path) -> None:
    """A file's data or a folder's entries, out of the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
