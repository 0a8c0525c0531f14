"""The plain rendition every extractor writes, and finding a span in the original.

The chunker reads blocks separated by blank lines with headings on short
lines of their own, so every format is written that way; each rendition line
remembers where it came from, which is what a citation into the original is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.models import LINES_KEY, Segment, SourceMap

Piece = tuple[str, Segment]


def at_line(line: int) -> Segment:
    """Where a piece of Markdown or HTML came from: its 1-based source line (offsets are filled in later)."""
    return Segment(0, 0, line=line)


@dataclass
class Rendition:
    """Blocks appended in reading order; ``text`` and ``segments`` grow together."""

    format: str
    parts: list[str] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    length: int = 0

    def block(self, lines: list[list[Piece]]) -> None:
        """One block of rendition lines, each made of pieces (text plus the segment it came from).

        A piece is one source line or one PDF line: a paragraph wrapped over
        several of them is still one rendition line, as the chunker expects.
        """
        lines = [
            line
            for line in ([p for p in pieces if p[0]] for pieces in lines)
            if "".join(t for t, _ in line).strip()
        ]
        if not lines:
            return
        if self.parts:
            self._add("\n\n")
        for n, pieces in enumerate(lines):
            if n:
                self._add("\n")
            for text, seg in pieces:
                self.segments.append(
                    Segment(
                        self.length, self.length + len(text), seg.line, seg.page, seg.top, seg.bottom, seg.xs
                    )
                )
                self._add(text)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts) + ("\n" if self.parts else "")

    def source_map(self, pages: tuple[tuple[float, float], ...] = ()) -> SourceMap:
        return SourceMap(self.format, tuple(self.segments), pages)


def origin(source: SourceMap, start: int, end: int, exact: bool = False) -> dict[str, Any]:
    """What a citation of ``[start, end)`` of the rendition adds: source lines, or pages and one box per line.

    ``exact``: the passage's text is that span as it is, so a PDF passage also
    keeps its lines (``LINES_KEY``) to box any part of it, such as the answer.
    """
    hit = [s for s in source.segments if s.start < end and s.end > start]
    out: dict[str, Any] = {"format": source.format}
    if not hit:
        return out
    if source.format in ("markdown", "html"):
        out["source_line_start"] = min(s.line for s in hit)
        out["source_line_end"] = max(s.line for s in hit)
        return out
    if source.format != "pdf":
        return out
    out["page_start"] = min(s.page for s in hit)
    out["page_end"] = max(s.page for s in hit)
    out["boxes"] = [s.box(start, end, source.pages[s.page - 1]) for s in hit]
    if exact:
        out[LINES_KEY] = [
            [
                s.start,
                s.end,
                s.page,
                round(s.top, 2),
                round(s.bottom, 2),
                *source.pages[s.page - 1],
                [round(x, 2) for x in s.xs],
            ]
            for s in hit
        ]
    return out
