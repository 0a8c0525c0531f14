"""Which extractor reads a file, by its suffix: PDF, Word, HTML and Markdown beside plain text.

Every extractor gives the plain rendition the chunker reads plus a map back to
the original. A parser fed a broken or hostile file may raise anything; that
becomes a reason the file is skipped for, never a crashed run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qa.models import SourceMap

TEXT_SUFFIX = ".txt"


@dataclass(frozen=True)
class Extracted:
    text: str
    encoding: str
    source: SourceMap
    warnings: list[str]


def _markdown(raw: bytes, decode: Callable[[bytes], tuple[str, str]]) -> Extracted:
    from qa.ingest.formats.markdown import extract_markdown

    text, encoding = decode(raw)
    return Extracted(*_checked(*extract_markdown(text), encoding), [])


def _html(raw: bytes, decode: Callable[[bytes], tuple[str, str]]) -> Extracted:
    from qa.ingest.formats.html import extract_html

    return Extracted(*_checked(*extract_html(raw), "html"), [])


def _docx(raw: bytes, decode: Callable[[bytes], tuple[str, str]]) -> Extracted:
    from qa.ingest.formats.docx import extract_docx

    return Extracted(*_checked(*extract_docx(raw), "docx"), [])


def _pdf(raw: bytes, decode: Callable[[bytes], tuple[str, str]]) -> Extracted:
    from qa.ingest.formats.pdf import extract_pdf

    result = extract_pdf(raw)
    return Extracted(*_checked(result.text, result.source, "pdf"), result.warnings)


def _checked(text: str, source: SourceMap, encoding: str) -> tuple[str, str, SourceMap]:
    if not text.strip():
        raise ValueError("no text to read in it")
    return text, encoding, source


_EXTRACTORS = {
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".docx": _docx,
    ".pdf": _pdf,
}
_NAMES = {
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".html": "HTML",
    ".htm": "HTML",
    ".docx": "Word",
    ".pdf": "PDF",
}
SUFFIXES = (TEXT_SUFFIX, *_EXTRACTORS)


def suffix_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > name.rfind("/") else ""


def readable(name: str) -> bool:
    """A file the corpus reads: ``.txt`` as today, or one of the formats extracted here."""
    return name.endswith(TEXT_SUFFIX) or suffix_of(name) in _EXTRACTORS


def extract(name: str, raw: bytes, decode: Callable[[bytes], tuple[str, str]]) -> Extracted:
    """The rendition of a non-text file; ValueError with a reason fit for a user when it cannot be read."""
    suffix = suffix_of(name)
    try:
        return _EXTRACTORS[suffix](raw, decode)
    except ValueError:
        raise
    except Exception as exc:  # a third-party parser on an arbitrary file: any failure is "cannot be read"
        raise ValueError(
            f"not a readable {_NAMES[suffix]} file ({type(exc).__name__}); the file may be broken"
        ) from None
