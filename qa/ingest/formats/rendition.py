"""The plain rendition every extractor writes, and finding a span in the original.

The chunker reads blocks separated by blank lines with headings on short
lines of their own, so every format is written that way; each rendition line
remembers where it came from, which is what a citation into the original is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.models import Segment, SourceMap


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
        lines = [line for line in ([p for p in pieces if p[0]] for pieces in lines) if "".join(t for t, _ in line).strip()]
        if not lines:
            return
        if self.parts:
            self._add("\n\n")
        for n, pieces in enumerate(lines):
            if n:
                self._add("\n")
            for text, seg in pieces:
                self.segments.append(Segment(self.length, self.length + len(text), seg.line, seg.page, seg.top, seg.bottom, seg.xs))
                self._add(text)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts) + ("\n" if self.parts else "")

    def source_map(self, pages: tuple[tuple[float, float], ...] = ()) -> SourceMap:
        return SourceMap(self.format, tuple(self.segments), pages)


def origin(source: SourceMap, start: int, end: int) -> dict[str, Any]:
    """What a citation of ``[start, end)`` of the rendition adds: source lines, or pages and one box per line."""
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
    out["boxes"] = [_box(source, s, start, end) for s in hit]
    return out


def _box(source: SourceMap, seg: Segment, start: int, end: int) -> dict[str, Any]:
    """The rectangle of the span's characters on this line, in PDF points from the page's top-left."""
    a = max(start, seg.start) - seg.start
    b = min(end, seg.end) - seg.start
    width, height = source.pages[seg.page - 1]
    return {
        "page": seg.page,
        "x0": round(seg.xs[a], 2),
        "top": round(seg.top, 2),
        "x1": round(seg.xs[b], 2),
        "bottom": round(seg.bottom, 2),
        "page_width": round(width, 2),
        "page_height": round(height, 2),
    }
