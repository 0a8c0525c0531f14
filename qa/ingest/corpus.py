"""Reading a corpus folder into documents whose offsets are exact.

Offsets are what citations point at, so text is decoded from raw bytes with
its own line endings; only a UTF-8 BOM is removed. Files that cannot be read
as Chinese text are skipped with a reason rather than indexed as mojibake.

Only regular files that resolve inside the corpus folder are opened: a link
out of the folder would publish an outside file through the documents API,
and opening a FIFO or device would hang or read without end. Names the API
cannot serve back, undecodable names and files over the size cap are skipped
with a reason too; an over-long ``metadata.json`` is refused, since it is
hand-written configuration and a silently dropped label changes retrieval.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest.formats import extract, readable
from qa.models import Document
from qa.settings import Settings

SIDECAR = "metadata.json"
MIN_CJK_SHARE = 0.5
_BOM = b"\xef\xbb\xbf"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CorpusLoad:
    documents: list[Document]
    skipped: list[tuple[str, str]]


TOKEN_CHARS = 8  # secrets.token_hex(4)


def temporary_name(name: str, token: str) -> str:
    """The name a document is first written under (then renamed): hidden, and unique per write."""
    return f".{name}.{token}.tmp"


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
            raise ValueError(
                "not valid UTF-8, and not Chinese text in GB18030 either (binary file?)"
            ) from None
    if not text.strip():
        raise ValueError("file is empty or only whitespace")
    if len(_CONTROL.findall(text)) > max(2, len(text) // 1000):
        raise ValueError("contains binary control characters, not plain text")
    return text, encoding


@dataclass(frozen=True)
class CorpusLimits:
    """Caps that keep one careless file from taking indexing into minutes and gigabytes."""

    file_bytes: int
    sidecar_bytes: int
    metadata_chars: int


def corpus_limits(settings: Settings) -> CorpusLimits:
    return CorpusLimits(
        settings.corpus_file_max_bytes, settings.metadata_file_max_bytes, settings.metadata_value_max_chars
    )


def shown(name: str) -> str:
    """A name fit for one line of a warning: undecodable bytes and control characters escaped."""
    raw = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in raw)


def _decodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unservable(name: str) -> str | None:
    """Why ``/api/documents/{name}`` could not serve this name back, or None when it can."""
    if "\\" in name:
        return "its name holds a backslash, which the documents API refuses; rename the file"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "its name holds a control character (e.g. a newline), which the documents API cannot serve; rename the file"
    return None


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _kind(mode: int) -> str:
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


@dataclass(frozen=True)
class _Found:
    name: str
    path: str
    stat: os.stat_result


def _scan(root: str, found: list[_Found], skipped: list[tuple[str, str]]) -> None:
    """Regular files of a readable format that resolve inside ``root``; everything else is skipped unopened.

    ``lstat`` only: ``Path.is_file()`` follows links and opening a FIFO blocks.
    A stack rather than recursion, so no folder depth can exhaust Python's.
    """
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            skipped.append((shown(prefix or "."), f"folder cannot be read: {exc.strerror or exc}"))
            continue
        for entry in entries:
            name = prefix + entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                if readable(name):
                    skipped.append((shown(name), f"cannot be read: {exc.strerror or exc}"))
                continue
            is_dir = stat.S_ISDIR(st.st_mode)
            if not (is_dir or readable(name) or stat.S_ISLNK(st.st_mode)):
                continue
            if not _decodable(entry.name):
                skipped.append((shown(name), "its name is not valid UTF-8; rename it"))
            elif is_dir:
                pending.append((entry.path, name + "/"))
            elif stat.S_ISLNK(st.st_mode):
                _follow_link(root, entry.path, name, found, skipped)
            elif not stat.S_ISREG(st.st_mode):
                skipped.append((shown(name), f"{_kind(st.st_mode)}, not a regular file; not opened"))
            else:
                found.append(_Found(name, entry.path, st))


def _follow_link(
    root: str, path: str, name: str, found: list[_Found], skipped: list[tuple[str, str]]
) -> None:
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except OSError:
        if readable(name):
            skipped.append((shown(name), "a broken symbolic link"))
        return
    if not _inside(target, root):
        if readable(name) or stat.S_ISDIR(st.st_mode):
            skipped.append((shown(name), "a symbolic link to outside the corpus folder; not opened"))
    elif stat.S_ISDIR(st.st_mode):
        skipped.append(
            (shown(name), "a symbolic link to a folder; not followed (its files are read where they are)")
        )
    elif readable(name):
        if stat.S_ISREG(st.st_mode):
            found.append(_Found(name, target, st))
        else:
            skipped.append((shown(name), f"links to {_kind(st.st_mode)}; not opened"))


def _read_capped(path: str, expected: os.stat_result, cap: int) -> bytes:
    """Read a file checked by stat, refusing it if it was swapped or grew past the cap meanwhile."""
    fd = os.open(
        path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    )
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino):
            raise ValueError("changed while being read; run again")
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"larger than the {_megabytes(cap)} cap (WENYUAN_CORPUS_FILE_MAX_BYTES)")
    return data


def _read_sidecar(folder: Path, root: str, limits: CorpusLimits) -> dict[str, dict[str, str]]:
    path = folder / SIDECAR
    try:
        lst = os.lstat(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CorpusError(f"{path} cannot be read: {exc.strerror}") from None
    real = os.path.realpath(path)
    if stat.S_ISLNK(lst.st_mode) and not _inside(real, root):
        raise CorpusError(f"{path} links outside the corpus folder; copy the file into the folder instead.")
    try:
        st = os.stat(real)
    except OSError as exc:
        raise CorpusError(f"{path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise CorpusError(f"{path} is {_kind(st.st_mode)}; it must be a JSON file.")
    if st.st_size > limits.sidecar_bytes:
        raise CorpusError(
            f"{path} is {_megabytes(st.st_size)}, more than the {_megabytes(limits.sidecar_bytes)} allowed "
            "(WENYUAN_METADATA_FILE_MAX_BYTES); it should hold short labels per file."
        )
    try:
        raw = _read_capped(real, st, limits.sidecar_bytes)
    except (OSError, ValueError) as exc:
        raise CorpusError(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
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
            if len(value) > limits.metadata_chars:
                raise CorpusError(
                    f'{path}: "{name}" field "{key}" is {len(value)} characters, more than the '
                    f"{limits.metadata_chars} allowed (WENYUAN_METADATA_VALUE_MAX_CHARS); "
                    "metadata is a short label such as a publication name or a date."
                )
    return data


def _document(
    item: _Found, limits: CorpusLimits, metadata: dict[str, str], skipped: list[tuple[str, str]]
) -> Document:
    """A ``.txt`` file decoded as always; another format extracted, its unread pages listed in ``skipped``."""
    raw = _read_capped(item.path, item.stat, limits.file_bytes)
    if item.name.endswith(".txt"):
        text, encoding = decode(raw)
        return Document(item.name, text, encoding, metadata)
    extracted = extract(item.name, raw, decode)
    skipped.extend((shown(item.name), warning) for warning in extracted.warnings)
    return Document(item.name, extracted.text, extracted.encoding, metadata, extracted.source)


def load_corpus(folder: Path, limits: CorpusLimits | None = None) -> CorpusLoad:
    """Every readable ``.txt``, PDF, Word, HTML and Markdown file under ``folder``; what cannot or must not be read is listed in ``skipped``."""
    folder = Path(folder)
    limits = limits or corpus_limits(Settings())
    if not folder.exists():
        raise CorpusError(f"Corpus folder {folder} does not exist; pass a folder of .txt files.")
    if not folder.is_dir():
        raise CorpusError(f"Corpus path {folder} is not a folder; pass a folder of .txt files.")
    root = os.path.realpath(folder)
    metadata = _read_sidecar(folder, root, limits)
    found: list[_Found] = []
    skipped: list[tuple[str, str]] = []
    _scan(root, found, skipped)
    documents: list[Document] = []
    for item in sorted(found, key=lambda f: f.name):
        reason = unservable(item.name)
        if reason is None and item.stat.st_size > limits.file_bytes:
            reason = (
                f"{_megabytes(item.stat.st_size)}, larger than the {_megabytes(limits.file_bytes)} cap "
                "(WENYUAN_CORPUS_FILE_MAX_BYTES)"
            )
        if reason is None:
            try:
                documents.append(_document(item, limits, dict(metadata.get(item.name, {})), skipped))
                continue
            except OSError as exc:
                reason = f"cannot be read: {exc.strerror or exc}"
            except ValueError as exc:
                reason = str(exc)
        skipped.append((shown(item.name), reason))
    skipped.sort()
    if not documents:
        if not skipped:
            raise CorpusError(f"No .txt files in {folder}; add UTF-8 or GB18030 text files.")
        reasons = "; ".join(f"{n}: {r}" for n, r in skipped)
        raise CorpusError(
            f"No readable text in {folder} ({reasons}); save them as UTF-8 text files inside the folder."
        )
    return CorpusLoad(documents, skipped)


def _source_record(doc: Document) -> list[str]:
    """Nothing for ``.txt`` (its hashes stay as they were); otherwise the map, so new boxes mean new chunks."""
    if doc.source is None:
        return []
    return [hashlib.sha256(json.dumps(asdict(doc.source)).encode("utf-8")).hexdigest()]


def fingerprint(documents: list[Document]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.name):
        record = [doc.name, doc.text, sorted(doc.metadata.items()), *_source_record(doc)]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def document_hash(doc: Document) -> str:
    """A document's text and metadata: equal hashes, equal chunks (under the same options)."""
    record = json.dumps([doc.text, sorted(doc.metadata.items()), *_source_record(doc)], ensure_ascii=False)
    return hashlib.sha256(record.encode("utf-8", "surrogatepass")).hexdigest()
