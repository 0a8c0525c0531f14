"""Plain data passed between the stages: documents → chunks → hits → answers.

These are the only shapes that cross module boundaries, so every stage can be
tested on its own and the JSON that scripts rely on is built in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One decoded source file; ``text`` is exactly what offsets count in."""

    name: str
    text: str
    encoding: str
    metadata: dict[str, str] = field(default_factory=dict)


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

    @classmethod
    def of(cls, chunk: Chunk, metadata: dict[str, str] | None = None) -> "Citation":
        return cls(
            doc=chunk.doc,
            title=chunk.title,
            paragraph=chunk.paragraph,
            start=chunk.start,
            end=chunk.end,
            line_start=chunk.line_start,
            line_end=chunk.line_end,
            metadata=dict(metadata or {}),
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        meta = out.pop("metadata")
        out.update({k: meta[k] for k in CITATION_METADATA if meta.get(k)})
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
        return {
            "rank": self.rank,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "highlight": list(self.highlight),
            "scores": self.scores.to_json(),
            "citation": self.citation.to_json(),
        }


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
