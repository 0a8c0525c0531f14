"""Reading order of a PDF page from its character boxes: rows, columns, lines, paragraphs.

pdfminer's own order reads a two-column newspaper page across the columns.
Here columns are the x-gaps left by the page's narrow lines; a line that
crosses a gap from one side to the other or starts inside it (a masthead, a
headline over both columns, a centred footer) cuts the page into bands, and
each band is read column by column. Every line keeps each character's left
edge, so any part of it has a box.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa.text.sentences import PDF_LINE_END

if TYPE_CHECKING:
    from qa.ingest.formats.pdf_tables import Table

_LATIN_END = re.compile(r"[A-Za-z0-9]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9]")


@dataclass(frozen=True)
class Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass
class Line:
    """One printed line (or the part of it in one column) on one page."""

    page: int
    chars: list[Char]
    table: bool = False  # a row of a ruled table (qa.ingest.formats.pdf_tables): never joined to other lines

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def x1(self) -> float:
        return self.chars[-1].x1

    @property
    def top(self) -> float:
        return min(c.top for c in self.chars)

    @property
    def bottom(self) -> float:
        return max(c.bottom for c in self.chars)

    @property
    def size(self) -> float:
        return statistics.median(c.size for c in self.chars)

    def xs(self) -> tuple[float, ...]:
        """Left edge of every text character (a ligature's width shared out), then the right edge."""
        edges: list[float] = []
        for c in self.chars:
            n = len(c.text)
            edges.extend(c.x0 + (c.x1 - c.x0) * k / n for k in range(n))
        return (*edges, self.x1)


@dataclass
class Column:
    """The lines of one column of one band, top to bottom, with the column's edges."""

    lines: list[Line]
    left: float
    right: float


def _rows(chars: list[Char]) -> list[list[Char]]:
    """Characters whose tops lie within half a character of each other share a row."""
    rows: list[list[Char]] = []
    for c in sorted(chars, key=lambda c: (c.top, c.x0)):
        if rows and abs(rows[-1][0].top - c.top) <= c.size * 0.5:
            rows[-1].append(c)
        else:
            rows.append([c])
    return [sorted(row, key=lambda c: c.x0) for row in rows]


def fragments(page: int, chars: list[Char]) -> list[Line]:
    """Rows cut where the gap between characters is wider than a character (a column gutter)."""
    out: list[Line] = []
    for row in _rows(chars):
        current: list[Char] = []
        for c in row:
            if current and c.x0 - current[-1].x1 > max(c.size, current[-1].size):
                out.append(Line(page, current))
                current = []
            current.append(c)
        out.append(Line(page, current))
    return [_strip(line) for line in out if line.text.strip()]


def _strip(line: Line) -> Line:
    chars = line.chars
    while chars and not chars[0].text.strip():
        chars = chars[1:]
    while chars and not chars[-1].text.strip():
        chars = chars[:-1]
    return Line(line.page, chars)


def gutters(lines: list[Line]) -> list[tuple[float, float]]:
    """x-ranges no narrow line covers, between columns that each hold at least three lines."""
    if len(lines) < 6:
        return []
    left, right = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    narrow = [ln for ln in lines if ln.x1 - ln.x0 <= (right - left) * 0.5 + 1]
    if len(narrow) < 0.6 * len(lines):
        return []
    size = statistics.median(ln.size for ln in lines)
    # Points covered by hardly any narrow line: a centred headline or page number may cross a gutter.
    cover = np.zeros(int(right - left) + 2, dtype=np.int32)
    for ln in narrow:
        cover[int(ln.x0 - left)] += 1
        cover[int(ln.x1 - left) + 1] -= 1
    sparse = np.cumsum(cover)[:-1] <= max(2, len(narrow) // 10)
    gaps: list[tuple[float, float]] = []
    run = None
    for x, empty in enumerate(sparse):
        if empty and run is None:
            run = x
        elif not empty and run is not None:
            if x - run >= size and run > 0:
                gaps.append((left + run, left + x))
            run = None
    edges = [left, *(x for gap in gaps for x in gap), right]
    columns = list(zip(edges[::2], edges[1::2]))
    if any(sum(1 for ln in narrow if a <= ln.x0 and ln.x1 <= b) < 3 for a, b in columns):
        return []
    return gaps


def read_page(lines: list[Line], tables: Sequence[Table] = ()) -> list[Column]:
    """A page's columns in reading order: band by band, and in each band left to right.

    ``lines`` are the page's ``fragments`` outside its ``tables``; a table is a
    band of its own, its rows one column.
    """
    gaps = gutters(lines)
    if not gaps and not tables:
        return [_column(lines)] if lines else []
    # Across the whole gutter, or starting inside it (a centred page number): a column's line may end inside the
    # gutter's sparse edge (half-width commas and digits make lines a little longer or shorter) and stays the column's.
    spanning = [ln for ln in lines if any((ln.x0 < a and ln.x1 > b) or a <= ln.x0 < b for a, b in gaps)]
    out: list[Column] = []
    band: list[Line] = []
    items: list[Line | Table] = [*lines, *tables]
    for item in sorted(items, key=lambda it: it.top):
        if not isinstance(item, Line):  # a Table
            out.extend(_split(band, gaps))
            out.append(Column(item.rows, min(r.x0 for r in item.rows), max(r.x1 for r in item.rows)))
            band = []
        elif item in spanning:
            out.extend(_split(band, gaps))
            out.append(_column([item]))
            band = []
        else:
            band.append(item)
    out.extend(_split(band, gaps))
    return out


def _split(band: list[Line], gaps: list[tuple[float, float]]) -> list[Column]:
    edges = [float("-inf"), *(b for _, b in gaps), float("inf")]
    columns = [[ln for ln in band if lo <= ln.x0 < hi] for lo, hi in zip(edges, edges[1:])]
    return [_column(c) for c in columns if c]


def _column(lines: list[Line]) -> Column:
    """Fragments of one row inside a column are one line again (a tab or wide space split them)."""
    merged: list[Line] = []
    for ln in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        if merged and abs(merged[-1].top - ln.top) <= ln.size * 0.5:
            gap = Char(" ", merged[-1].x1, ln.x0, ln.top, ln.bottom, ln.size)
            merged[-1] = Line(ln.page, [*merged[-1].chars, gap, *ln.chars])
        else:
            merged.append(ln)
    return Column(merged, min(ln.x0 for ln in merged), max(ln.x1 for ln in merged))


@dataclass
class Paragraph:
    lines: list[Line]
    heading: bool
    full_end: bool  # the last line reached the column's right edge
    table: bool = False  # its lines are a table's rows, one rendition line each


def paragraphs(columns: list[Column], body_size: float) -> list[Paragraph]:
    """Lines grouped into paragraphs; one cut by a column or page break is joined to its start."""
    out: list[Paragraph] = []
    for column in columns:
        previous: Line | None = None
        for line in column.lines:
            if line.table:
                if previous is not None and previous.table:
                    out[-1].lines.append(line)
                else:
                    out.append(Paragraph([line], False, False, table=True))
                previous = line
                continue
            heading = line.size >= body_size * 1.15
            indented = line.x0 - column.left > line.size * 0.8
            full = column.right - line.x1 <= line.size * 1.5
            if previous is None:
                last = out[-1] if out else None
                joins = (
                    last is not None
                    and not last.heading
                    and not heading
                    and last.full_end
                    and not indented
                    and last.lines[-1].text[-1:] not in PDF_LINE_END
                )
            else:
                gap = line.top - previous.bottom
                joins = (
                    not heading
                    and not out[-1].heading
                    and not indented
                    and out[-1].full_end
                    and gap <= line.size * 0.8
                )
            if joins:
                out[-1].lines.append(line)
                out[-1].full_end = full
            else:
                out.append(Paragraph([line], heading, full))
            previous = line
    return out


def separator(before: str, after: str) -> str:
    """Wrapped lines join without a space in Chinese and with one between Latin words."""
    return " " if _LATIN_END.search(before) and _LATIN_START.search(after) else ""
