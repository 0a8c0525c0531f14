"""Ruled tables on a PDF page: read row by row, cells in order, as a Word table is.

Column detection (qa.ingest.formats.pdf_layout) would read a table's columns
one after the other, so 新埭镇 lands three blocks away from its 四十五家. A
table printed with rules is recognised by them: at least three horizontal
rules of the same width stacked on the page cut it into rows, and a row is
the fragments between two rules, cells left to right joined by `` | ``. Rows
taller than a few lines are not a table (full-width rules between the
article bands of a newspaper page are the case this keeps out). Tables
without rules are read as columns still.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.ingest.formats.pdf_layout import Char, Line

MIN_RULES = 3
MAX_ROW_LINES = 4
_SAME_X = 2.0


@dataclass(frozen=True)
class Rule:
    """A horizontal rule, in points from the shown page's top-left."""

    x0: float
    x1: float
    top: float


@dataclass
class Table:
    top: float
    bottom: float
    rows: list[Line]


def _groups(rules: list[Rule]) -> list[list[Rule]]:
    """Rules of the same left and right ends, top to bottom, one duplicate (a cell's edge drawn twice) dropped."""
    groups: list[list[Rule]] = []
    for rule in sorted(rules, key=lambda r: (round(r.x0), round(r.x1), r.top)):
        for group in groups:
            if abs(group[0].x0 - rule.x0) <= _SAME_X and abs(group[0].x1 - rule.x1) <= _SAME_X:
                if rule.top - group[-1].top > 1.0:
                    group.append(rule)
                break
        else:
            groups.append([rule])
    return [g for g in groups if len(g) >= MIN_RULES]


def _cells(fragments: list[Line]) -> list[list[Line]]:
    """Fragments that overlap in x are one cell (its wrapped lines); cells left to right."""
    cells: list[list[Line]] = []
    for frag in sorted(fragments, key=lambda f: f.x0):
        if cells and frag.x0 < max(f.x1 for f in cells[-1]):
            cells[-1].append(frag)
        else:
            cells.append([frag])
    return [sorted(cell, key=lambda f: f.top) for cell in cells]


def _row(page: int, cells: list[list[Line]]) -> Line:
    chars: list[Char] = []
    for cell in cells:
        if chars:
            last, first = chars[-1], cell[0].chars[0]
            chars.append(Char(" | ", last.x1, max(first.x0, last.x1), first.top, first.bottom, first.size))
        for frag in cell:
            chars.extend(frag.chars)
    return Line(page, chars, table=True)


def find_tables(page: int, fragments: list[Line], rules: list[Rule]) -> tuple[list[Table], list[Line]]:
    """The page's ruled tables and the fragments left for column reading."""
    tables: list[Table] = []
    taken: set[int] = set()
    for group in _groups(rules):
        left, right = group[0].x0 - _SAME_X, group[0].x1 + _SAME_X
        rows: list[tuple[Line, set[int]]] = []
        for upper, lower in zip(group, group[1:]):
            inside = [
                f
                for f in fragments
                if id(f) not in taken
                and left <= f.x0
                and f.x1 <= right
                and upper.top < (f.top + f.bottom) / 2 < lower.top
            ]
            if not inside:
                continue
            cells = _cells(inside)
            if any(len(cell) > MAX_ROW_LINES for cell in cells):
                rows = []
                break
            rows.append((_row(page, cells), {id(f) for f in inside}))
        if sum(1 for row, _ in rows if " | " in row.text) >= 2:
            tables.append(Table(group[0].top, group[-1].top, [row for row, _ in rows]))
            for _, ids in rows:
                taken |= ids
    return tables, [f for f in fragments if id(f) not in taken]
