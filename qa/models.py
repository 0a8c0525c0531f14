"""Plain data passed between the stages: documents → chunks → hits → answers.

These are the only shapes that cross module boundaries, so every stage can be
tested on its own and the JSON that scripts rely on is built in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Segment:
    """One line of a rendition and where it came from in the original file.

    ``start``/``end`` are rendition offsets. Markdown and HTML give the source
    ``line`` (1-based); PDF gives the ``page`` (1-based), the line's ``top`` and
    ``bottom`` and ``xs``: each character's left edge, then the last one's right
    edge (PDF points from the page's top-left), so any sub-span has its box.
    """

    start: int
    end: int
    line: int = 0
    page: int = 0
    top: float = 0.0
    bottom: float = 0.0
    xs: tuple[float, ...] = ()

    def box(self, start: int, end: int, page_size: tuple[float, float]) -> dict[str, Any]:
        """The rectangle of the characters of ``[start, end)`` on this PDF line, in points from the page's top-left."""
        a = max(start, self.start) - self.start
        b = min(end, self.end) - self.start
        return {
            "page": self.page,
            "x0": round(self.xs[a], 2),
            "top": round(self.top, 2),
            "x1": round(self.xs[b], 2),
            "bottom": round(self.bottom, 2),
            "page_width": round(page_size[0], 2),
            "page_height": round(page_size[1], 2),
        }


# Kept with a PDF chunk's origin, never shown in a citation: its lines, to box any span inside it.
LINES_KEY = "_lines"


@dataclass(frozen=True)
class SourceMap:
    """What a non-text file's rendition maps back to; ``pages`` holds each PDF page's (width, height)."""

    format: str
    segments: tuple[Segment, ...]
    pages: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Document:
    """One decoded source file; ``text`` is exactly what offsets count in.

    For PDF, Word, HTML and Markdown ``text`` is the plain rendition the
    chunker reads and ``source`` maps it back to the original; ``.txt`` has none.
    """

    name: str
    text: str
    encoding: str
    metadata: dict[str, str] = field(default_factory=dict)
    source: SourceMap | None = None

    @property
    def format(self) -> str:
        return self.source.format if self.source is not None else "txt"


@dataclass(frozen=True)
class Chunk:
    """One citable passage: about one paragraph of one article.

    ``source[start:end]`` holds every character of ``text`` in order; the only
    characters of the span missing from ``text`` are the whitespace of
    repaired page/column breaks.
    """

    doc: str
    title: str
    article: int
    paragraph: int
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    id: str
    # Where the span is in the original file (format, pages and boxes, or source lines); None for .txt.
    origin: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> int:
        """The id as FAISS's int64 label (ids are 63-bit, so always positive)."""
        return int(self.id, 16)


CITATION_METADATA = ("publication", "date", "url")


@dataclass(frozen=True)
class Citation:
    doc: str
    title: str
    paragraph: int
    start: int
    end: int
    line_start: int
    line_end: int
    metadata: dict[str, str] = field(default_factory=dict)
    origin: dict[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, chunk: Chunk, metadata: dict[str, str] | None = None) -> Citation:
        return cls(
            doc=chunk.doc,
            title=chunk.title,
            paragraph=chunk.paragraph,
            start=chunk.start,
            end=chunk.end,
            line_start=chunk.line_start,
            line_end=chunk.line_end,
            metadata=dict(metadata or {}),
            origin=chunk.origin,
        )

    def to_json(self) -> dict[str, Any]:
        """Today's fields (offsets into the rendition), then what the original format adds."""
        out = asdict(self)
        meta = out.pop("metadata")
        origin = out.pop("origin")
        out.update({k: meta[k] for k in CITATION_METADATA if meta.get(k)})
        out.update({k: v for k, v in (origin or {}).items() if k != LINES_KEY})
        return out

    def quoting(self, start: int, end: int) -> Citation:
        """This citation as the quote of ``[start, end)`` of its passage's text: a PDF's pages and boxes become the quote's.

        A reader checks the quoted sentence, not the whole passage; the offsets
        (today's fields) still name the passage, so the page finds its card.
        """
        boxes = self.span_boxes(self.start + start, self.start + end)
        if not boxes:
            return self
        pages = [b["page"] for b in boxes]
        return replace(
            self,
            origin={**(self.origin or {}), "page_start": min(pages), "page_end": max(pages), "boxes": boxes},
        )

    def span_boxes(self, start: int, end: int) -> list[dict[str, Any]] | None:
        """One box per PDF line of ``[start, end)`` (rendition offsets inside this passage), or None without lines."""
        lines = (self.origin or {}).get(LINES_KEY)
        if not lines or end <= start:
            return None
        out = []
        for seg_start, seg_end, page, top, bottom, width, height, xs in lines:
            if seg_start < end and seg_end > start:
                segment = Segment(seg_start, seg_end, page=page, top=top, bottom=bottom, xs=tuple(xs))
                out.append(segment.box(start, end, (width, height)))
        return out


@dataclass(frozen=True)
class Scores:
    """Per-component scores; ``None`` where that component did not retrieve the hit."""

    fused: float
    bm25: float | None = None
    dense: float | None = None

    def to_json(self) -> dict[str, float | None]:
        return {"bm25": self.bm25, "dense": self.dense, "fused": self.fused}


@dataclass(frozen=True)
class Hit:
    rank: int
    chunk_id: str
    text: str
    highlight: tuple[int, int]
    scores: Scores
    citation: Citation

    def to_json(self) -> dict[str, Any]:
        out = {
            "rank": self.rank,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "highlight": list(self.highlight),
            "scores": self.scores.to_json(),
            "citation": self.citation.to_json(),
        }
        # A PDF passage whose text is its span of the rendition: the answer span's own lines on the page.
        boxes = self.citation.span_boxes(
            self.citation.start + self.highlight[0], self.citation.start + self.highlight[1]
        )
        if boxes:
            out["highlight_boxes"] = boxes
        return out


@dataclass(frozen=True)
class SearchResult:
    question: str
    mode: str
    took_ms: float
    hits: list[Hit]

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "mode": self.mode,
            "took_ms": round(self.took_ms, 3),
            "hits": [h.to_json() for h in self.hits],
        }
