"""Reading a corpus folder into documents whose offsets are exact.

Offsets are what citations point at, so text is decoded from raw bytes with
its own line endings; only a UTF-8 BOM is removed. Files that cannot be read
as Chinese text are skipped with a reason rather than indexed as mojibake.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.models import Document

SIDECAR = "metadata.json"
MIN_CJK_SHARE = 0.5
_BOM = b"\xef\xbb\xbf"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CorpusLoad:
    documents: list[Document]
    skipped: list[tuple[str, str]]


def _cjk_share(text: str) -> float:
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return 0.0
    return sum(1 for c in visible if _CJK.match(c)) / len(visible)


def decode(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding) or raise ValueError with a reason fit for a user.

    GB18030 decodes almost any byte string, so a GB18030 result is only
    trusted when it is mostly Chinese.
    """
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = raw.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise ValueError("not valid UTF-8 or GB18030 text") from None
        if _cjk_share(text) < MIN_CJK_SHARE:
            raise ValueError("not valid UTF-8, and not Chinese text in GB18030 either (binary file?)")
    if not text.strip():
        raise ValueError("file is empty or only whitespace")
    if len(_CONTROL.findall(text)) > max(2, len(text) // 1000):
        raise ValueError("contains binary control characters, not plain text")
    return text, encoding


def _read_sidecar(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / SIDECAR
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{path} is not valid UTF-8 JSON ({exc}); fix or remove it.") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{path} must be a JSON object mapping file names to metadata objects.")
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise CorpusError(f'{path}: entry "{name}" must be an object of string fields.')
        for key, value in entry.items():
            if not isinstance(value, str):
                raise CorpusError(f'{path}: "{name}" field "{key}" must be a string; quote it.')
    return data


def load_corpus(folder: Path) -> CorpusLoad:
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(f"Corpus folder {folder} does not exist; pass a folder of .txt files.")
    if not folder.is_dir():
        raise CorpusError(f"Corpus path {folder} is not a folder; pass a folder of .txt files.")
    metadata = _read_sidecar(folder)
    paths = sorted((p for p in folder.rglob("*.txt") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    documents: list[Document] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        name = path.relative_to(folder).as_posix()
        try:
            text, encoding = decode(path.read_bytes())
        except OSError as exc:
            skipped.append((name, f"cannot be read: {exc.strerror or exc}"))
            continue
        except ValueError as exc:
            skipped.append((name, str(exc)))
            continue
        documents.append(Document(name, text, encoding, dict(metadata.get(name, {}))))
    if not documents:
        if not paths:
            raise CorpusError(f"No .txt files in {folder}; add UTF-8 or GB18030 text files.")
        reasons = "; ".join(f"{n}: {r}" for n, r in skipped)
        raise CorpusError(f"No readable text in {folder} ({reasons}); save the files as UTF-8 text.")
    return CorpusLoad(documents, skipped)


def fingerprint(documents: list[Document]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.name):
        record = [doc.name, doc.text, sorted(doc.metadata.items())]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
