"""Markdown → rendition with source lines (markdown-it-py, CommonMark plus tables).

Headings, paragraphs, list items and table rows are prose; front matter, code
fences, indented code and raw HTML are not, so they are left out rather than
indexed as if someone had written them as sentences.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from qa.ingest.formats.rendition import Piece, Rendition, at_line
from qa.models import SourceMap

_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\r?\n")
_SKIPPED = {"fence", "code_block", "html_block", "hr"}
_CJK_END = re.compile(r"[\u3000-\u9fff\uff00-\uffef]$")


def _blank_front_matter(text: str) -> str:
    """Front matter (``---`` … ``---`` at the top) becomes blank lines, so line numbers stay the source's."""
    opened = _FRONT_MATTER.match(text)
    if not opened:
        return text
    fence = opened.group(0).strip()
    lines = text.splitlines(keepends=True)
    for n in range(1, len(lines)):
        if lines[n].strip() == fence:
            return "".join("\n" if k <= n else line for k, line in enumerate(lines))
    return text


def _plain(inline: Token, first_line: int) -> list[Piece]:
    """An inline token's visible text, one piece per source line (soft breaks join CJK without a space)."""
    pieces: list[Piece] = []
    current: list[str] = []
    line = first_line
    for child in inline.children or []:
        if child.type in ("softbreak", "hardbreak"):
            pieces.append(("".join(current), at_line(line)))
            line += 1
            joined = "".join(t for t, _ in pieces)
            current = [] if _CJK_END.search(joined) else [" "]
        elif child.type in ("text", "code_inline"):
            current.append(child.content)
        elif child.type == "image":
            current.append(child.content)
    pieces.append(("".join(current), at_line(line)))
    return pieces


def extract_markdown(text: str) -> tuple[str, SourceMap]:
    """The rendition of a Markdown file and its map to source lines."""
    tokens = MarkdownIt("commonmark").enable("table").parse(_blank_front_matter(text))
    out = Rendition("markdown")
    row: list[Piece] = []
    table: list[list[Piece]] = []
    previous = ""
    for token in tokens:
        in_cell, previous = previous in ("th_open", "td_open"), token.type
        if token.type in _SKIPPED:
            continue
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and token.map is not None and in_cell:
            if row:
                row.append((" | ", at_line(token.map[0] + 1)))
            row.extend(_plain(token, token.map[0] + 1))
        elif token.type == "tr_close":
            table.append(row)
        elif token.type == "table_close":
            out.block(table)
            table = []
        elif token.type == "inline" and token.map is not None:
            out.block([_plain(token, token.map[0] + 1)])
    return out.text, out.source_map()
