"""Document names and JSON bodies as the documents API accepts them, checked before any waiting or writing.

A name is one plain file name in the corpus folder, of a format the corpus
reads (``.txt``, ``.md``, ``.html``, ``.docx``, ``.pdf``). It is checked
against the longest file name the write path creates for it (its temporary
file), so a name that passes is never refused later by the file system with a
500. Names are NFC-normalised, so the composed and decomposed forms of
``café_文档.txt`` are one document, and characters a reader cannot see (Unicode
category Cf: bidi overrides, zero-width characters, the BOM) are refused: they
make one name look like another in the list. Messages name the character by
code point, never by echoing it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from qa.errors import ApiError
from qa.ingest.corpus import TOKEN_CHARS, temporary_name, unservable
from qa.ingest.formats import TEXT_SUFFIX, readable, suffix_of

NAME_MAX_CHARS = 200
FILE_NAME_MAX_BYTES = 255  # ext4, xfs, btrfs, tmpfs: NAME_MAX
METADATA_FIELDS = ("publication", "date", "url")
SURROGATE = re.compile("[\ud800-\udfff]")


NAME_MAX_BYTES = FILE_NAME_MAX_BYTES - len(temporary_name("", "0" * TOKEN_CHARS).encode("ascii"))


def describe_char(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: what a message can show of a character that cannot be shown."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def shown(name: str, limit: int = 80) -> str:
    """The name for a message: escaped (repr) so lone surrogates and invisible characters stay visible and encodable."""
    return ascii(name[:limit]) if any(_invisible(c) for c in name) else repr(name[:limit])


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in ("Cf", "Cs", "Cc", "Co", "Cn", "Zl", "Zp")


def check_name(raw: str) -> str:
    """The NFC form of a plain file name of a readable format inside the corpus folder, or 400 saying what is wrong."""

    def bad(why: str) -> ApiError:
        return ApiError(400, "invalid_document", f"invalid document name {shown(raw)}: {why}")

    surrogate = next((c for c in raw if unicodedata.category(c) == "Cs"), None)
    if surrogate is not None:
        raise bad(f"it holds {describe_char(surrogate)}, a lone surrogate, which is not text")
    name = unicodedata.normalize("NFC", raw)
    if "/" in name or "\\" in name:
        raise bad("a plain file name is needed, without / or \\")
    if "\x00" in name or ".." in name or name.startswith("."):
        raise bad("it may not hold NUL or '..', nor start with '.'")
    suffix = TEXT_SUFFIX if name.endswith(TEXT_SUFFIX) else suffix_of(name)
    if not readable(name) or name == suffix:
        raise bad("documents are .txt, .md, .html, .docx or .pdf files, e.g. 2024-05-01_平湖.txt")
    stem = name[: -len(suffix)]
    if name != name.strip() or stem != stem.rstrip():
        edge = name[0] if name[0].isspace() else stem[-1]
        raise bad(f"it starts or ends with a space ({describe_char(edge)}); remove it")
    hidden = next((c for c in name if unicodedata.category(c) == "Cf"), None)
    if hidden is not None:
        raise bad(
            f"it holds the invisible character {describe_char(hidden)}; remove it (it makes names look alike)"
        )
    size = len(name.encode("utf-8"))
    if len(name) > NAME_MAX_CHARS or size > NAME_MAX_BYTES:
        raise bad(
            f"at most {NAME_MAX_CHARS} characters and {NAME_MAX_BYTES} bytes of UTF-8 "
            f"(a Chinese character is 3 bytes), got {len(name)} characters and {size} bytes"
        )
    odd = next((c for c in name if unicodedata.category(c) in ("Co", "Cn", "Zl", "Zp")), None)
    if odd is not None:
        raise bad(f"it holds {describe_char(odd)}, a private-use, unassigned or line-separator character")
    if unservable(name):
        control = next(c for c in name if unicodedata.category(c) == "Cc")
        raise bad(f"it holds the control character {describe_char(control)}")
    return name


def existing_name(raw: str, corpus: Path) -> str:
    """For reading or removing: the checked NFC name, or the name as given when only that form is on disk.

    A corpus copied from macOS may hold decomposed (NFD) names; they stay removable.
    """
    name = check_name(raw)
    if name != raw and not (corpus / name).exists() and (corpus / raw).is_file():
        return raw
    return name


def check_text(text: str, what: str = "text") -> str:
    """422 for a lone surrogate (JSON's ``\\ud800`` escapes decode to one); UTF-8 cannot store it."""
    found = None if text.isprintable() else SURROGATE.search(text)
    if found is None:
        return text
    raise ApiError(
        422,
        "unreadable_text",
        f"the {what} holds a lone surrogate ({describe_char(found.group())}) at character {found.start()}, "
        "which is not text; send valid Unicode",
    )


def check_metadata(metadata: Any, limit: int) -> dict[str, str]:
    """The metadata object of a JSON upload: known fields, text values within ``limit`` characters, or 422."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ApiError(422, "invalid_request", 'metadata must be an object, e.g. {"date": "2022-03"}')
    out = {}
    for key, value in metadata.items():
        if key not in METADATA_FIELDS:
            raise ApiError(
                422,
                "invalid_request",
                f"unknown metadata field {ascii(key[:40])}: use {', '.join(METADATA_FIELDS)}",
            )
        if not isinstance(value, str) or len(value) > limit:
            raise ApiError(
                422, "invalid_request", f"metadata {key!r} must be text of at most {limit} characters"
            )
        out[key] = check_text(value, f"metadata {key!r}")
    return out
