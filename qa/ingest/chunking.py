"""Turning a document into citable chunks with exact source spans.

A chunk is what a reader cites, so it is about one paragraph of one article;
its text may differ from the source span only by the whitespace of repaired
page/column breaks, which keeps every answer traceable to the page.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from qa.ingest import layout
from qa.ingest.formats.rendition import origin
from qa.models import Chunk, Document
from qa.text import sentences

CHUNKER_VERSION = "3"


@dataclass(frozen=True)
class ChunkingConfig:
    """Sizes in characters; measured on the seeds, where a paragraph runs 20–700."""

    min_chars: int = 60
    split_chars: int = 400
    max_chars: int = 512


@dataclass(frozen=True)
class _Unit:
    """Chunk text plus, for every character, its offset in the document."""

    text: str
    pos: tuple[int, ...]
    heading_only: bool = False

    @property
    def start(self) -> int:
        return self.pos[0]

    @property
    def end(self) -> int:
        return self.pos[-1] + 1


def _span(source: str, start: int, end: int, heading_only: bool = False) -> _Unit:
    return _Unit(source[start:end], tuple(range(start, end)), heading_only)


def _adjacent(source: str, a: _Unit, b: _Unit) -> bool:
    return not source[a.end : b.start].strip()


def _join(source: str, a: _Unit, b: _Unit, keep_gap: bool) -> _Unit:
    if not keep_gap:
        return _Unit(a.text + b.text, a.pos + b.pos)
    gap = range(a.end, b.start)
    return _Unit(a.text + source[a.end : b.start] + b.text, a.pos + tuple(gap) + b.pos)


def _paragraphs(source: str, parts: Iterable[layout.Part]) -> list[_Unit]:
    """Repair breaks and attach headings; a heading with nothing to attach to is dropped."""
    units: list[_Unit] = []
    glue: str | None = None
    for part in parts:
        unit = _span(source, part.start, part.end, part.role == "heading")
        if units and glue and _adjacent(source, units[-1], unit) and not unit.heading_only:
            units[-1] = _join(source, units[-1], unit, keep_gap=glue == "heading")
        else:
            units.append(unit)
        glue = "heading" if part.role == "heading" else ("break" if part.continues else None)
    return [u for u in units if not u.heading_only]


def _merge_short(source: str, units: list[_Unit], config: ChunkingConfig) -> list[_Unit]:
    out: list[_Unit] = []
    for unit in units:
        if out and (len(unit.text) < config.min_chars or len(out[-1].text) < config.min_chars):
            prev = out[-1]
            gap = unit.start - prev.end
            if _adjacent(source, prev, unit) and len(prev.text) + gap + len(unit.text) <= config.split_chars:
                out[-1] = _join(source, prev, unit, keep_gap=True)
                continue
        out.append(unit)
    return out


def _trim(unit: _Unit) -> _Unit | None:
    text = unit.text
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    if not stripped:
        return None
    return _Unit(stripped, unit.pos[lead : lead + len(stripped)])


def _cut(unit: _Unit, cuts: list[int]) -> list[_Unit]:
    bounds = [0, *cuts, len(unit.text)]
    pieces = (_Unit(unit.text[a:b], unit.pos[a:b]) for a, b in zip(bounds, bounds[1:]) if b > a)
    return [t for t in map(_trim, pieces) if t is not None]


def _even_cuts(ends: list[int], length: int, n: int) -> list[int]:
    cuts: list[int] = []
    for k in range(1, n):
        target = k * length / n
        options = [e for e in ends if e > (cuts[-1] if cuts else 0) and e < length]
        if options:
            best = min(options, key=lambda e: abs(e - target))
            if best not in cuts:
                cuts.append(best)
    return cuts


def _hard_split(unit: _Unit, limit: int) -> list[_Unit]:
    """A single sentence over the limit is cut at the clause end nearest its middle."""
    n = len(unit.text)
    if n <= limit:
        return [unit]
    lo, hi = n - limit, limit
    ends = [e for e in sentences.clause_ends(unit.text) if lo <= e <= hi]
    cut = min(ends, key=lambda e: abs(e - n / 2)) if ends else limit
    return [p for piece in _cut(unit, [cut]) for p in _hard_split(piece, limit)]


def _split_long(unit: _Unit, config: ChunkingConfig) -> list[_Unit]:
    n = len(unit.text)
    pieces = [unit]
    if n > config.split_chars:
        ends = sentences.chunk_ends(unit.text)
        pieces = _cut(unit, _even_cuts(ends, n, math.ceil(n / config.split_chars)))
    return [p for piece in pieces for p in _hard_split(piece, config.max_chars)]


def chunk_id(doc: str, title: str, text: str, occurrence: int) -> str:
    """A chunk's identity from its document and content, never its position.

    Other documents changing, or paragraphs moving within this one, leave it
    alone; ``occurrence`` tells apart identical paragraphs of one document.
    63 bits (16 hex digits), so it is also a positive FAISS int64 label.
    """
    record = "\x00".join((doc, title, text, str(occurrence))).encode("utf-8", "surrogatepass")
    value = int.from_bytes(hashlib.blake2b(record, digest_size=8).digest(), "big") >> 1
    return f"{value:016x}"


def _origin(doc: Document, piece: _Unit) -> dict | None:
    """Where a passage of a PDF, Word, HTML or Markdown rendition is in the original; None for ``.txt``."""
    if doc.source is None:
        return None
    return origin(doc.source, piece.start, piece.end, exact=piece.text == doc.text[piece.start : piece.end])


def chunk_document(doc: Document, config: ChunkingConfig = ChunkingConfig()) -> list[Chunk]:
    """One chunk per paragraph-sized passage of each article, titled by its headline.

    Page furniture comes through layout as articles titled 报头, 广告 or 天气预报,
    so a reader sees in the citation what kind of text was quoted.
    """
    source = doc.text
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", source)]
    chunks: list[Chunk] = []
    seen: dict[tuple[str, str], int] = {}
    article_no = 0
    for article in layout.segment(source):
        units = _merge_short(source, _paragraphs(source, article.parts), config)
        pieces = [p for u in units for p in _split_long(u, config)]
        if not pieces:
            continue
        for number, piece in enumerate(pieces, start=1):
            occurrence = seen[(article.title, piece.text)] = seen.get((article.title, piece.text), -1) + 1
            chunks.append(
                Chunk(
                    doc=doc.name,
                    title=article.title,
                    article=article_no,
                    paragraph=number,
                    text=piece.text,
                    start=piece.start,
                    end=piece.end,
                    line_start=bisect.bisect_right(line_starts, piece.start),
                    line_end=bisect.bisect_right(line_starts, piece.end - 1),
                    id=chunk_id(doc.name, article.title, piece.text, occurrence),
                    origin=_origin(doc, piece),
                )
            )
        article_no += 1
    return chunks


def chunk_corpus(documents: Iterable[Document], config: ChunkingConfig = ChunkingConfig()) -> list[Chunk]:
    return [c for doc in documents for c in chunk_document(doc, config)]
