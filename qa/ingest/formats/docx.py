"""Word (.docx) → rendition (python-docx): paragraphs and tables in document order.

A heading is what its style or outline level says: "Heading 1", "Title", the
Chinese "标题 1", or any style whose paragraph format sets an outline level.
A Word file has no stable lines or pages, so its citations carry the format only.
"""

from __future__ import annotations

import io
import re

import docx
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from qa.ingest.formats.rendition import Rendition
from qa.models import Segment, SourceMap

_HEADING_STYLE = re.compile(r"^(?:heading|标题|title|subtitle|副标题)\s*\d*$", re.IGNORECASE)
_NOWHERE = Segment(0, 0)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _is_heading(paragraph: Paragraph) -> bool:
    style = paragraph.style
    while style is not None:
        if _HEADING_STYLE.match(style.name or "") or _outline_level(style.element) is not None:
            return True
        style = style.base_style
    return _outline_level(paragraph._p) is not None


def _outline_level(element) -> str | None:
    """``w:outlineLvl`` below 9 marks a heading (9 is "body text")."""
    for level in element.iter(f"{_W}outlineLvl"):
        value = level.get(f"{_W}val")
        if value is not None and value != "9":
            return value
    return None


def _items(document: WordDocument):
    """Body paragraphs and tables in the order they appear."""
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == f"{_W}p":
            yield Paragraph(child, document)
        elif child.tag == f"{_W}tbl":
            yield Table(child, document)


def _row_text(row) -> str:
    cells: list[str] = []
    for cell in row.cells:
        text = " ".join(cell.text.split())
        if text and (not cells or cells[-1] != text):  # merged cells repeat their text
            cells.append(text)
    return " | ".join(cells)


def extract_docx(raw: bytes) -> tuple[str, SourceMap]:
    """The rendition of a Word file; its source map names the format only (Word has no fixed lines)."""
    document = docx.Document(io.BytesIO(raw))
    out = Rendition("docx")
    for item in _items(document):
        if isinstance(item, Table):
            out.block([[(_row_text(row), _NOWHERE)] for row in item.rows])
        else:
            text = item.text.strip()
            if text and _is_heading(item):
                text = " ".join(text.split())
            out.block([[(text, _NOWHERE)]])
    return out.text, out.source_map()
