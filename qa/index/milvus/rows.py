"""What a row of a build's collections holds: a chunk's row, a sentence's id, the BM25 text, stored vectors.

The writer makes rows with these; ``MilvusVectors`` reads a build's vectors
back by content key, so an update or a rebuild embeds only new text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qa.index.milvus import store as ms
from qa.index.recipe import content_key
from qa.models import Chunk


class MilvusVectors:
    """Vectors already in a build's collection, found by content key."""

    def __init__(self, client: Any, collection: str | None, key_field: str, vector_field: str) -> None:
        self.client, self.collection, self.key_field, self.vector_field = (
            client,
            collection,
            key_field,
            vector_field,
        )

    def found(self, keys: list[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        if self.collection is None or not keys:
            return {}
        out: dict[bytes, np.ndarray] = {}
        unique = sorted({k.hex() for k in keys})
        for i in range(0, len(unique), ms.SEARCH_BATCH):
            batch = unique[i : i + ms.SEARCH_BATCH]
            expr = f"{self.key_field} in [" + ",".join(f'"{k}"' for k in batch) + "]"
            rows = ms.call(
                "reading stored vectors",
                self.client.query,
                self.collection,
                filter=expr,
                output_fields=[self.key_field, self.vector_field],
                limit=16_384,
                consistency_level=ms.STRONG,
            )
            for row in rows:
                vector = np.asarray(row[self.vector_field], dtype=np.float32)
                if vector.shape == (dimension,):
                    out[bytes.fromhex(row[self.key_field])] = vector
        return out


def chunk_row(chunk: Chunk, tokens: list[str], key: bytes, vector: np.ndarray) -> dict[str, Any]:
    return {
        "id": chunk.key,
        "doc": chunk.doc,
        "doc_key": ms.doc_key(chunk.doc),
        "title": chunk.title,
        "text": chunk.text,
        "article": chunk.article,
        "paragraph": chunk.paragraph,
        "start": chunk.start,
        "end": chunk.end,
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
        "passage_key": key.hex(),
        "origin": ms.origin_text(chunk),
        "tokens": bm25_text(tokens),
        "dense": vector.tolist(),
    }


def sentence_id(chunk_key: int, start: int) -> int:
    return int.from_bytes(content_key("sentence", str(chunk_key), str(start))[:8], "big") >> 1


PLACE_FIELDS = ("article", "paragraph", "start", "end", "line_start", "line_end")


def signature(chunk: Chunk, tokens: list[str]) -> tuple[Any, ...]:
    return (bm25_text(tokens), ms.origin_text(chunk), *(getattr(chunk, f) for f in PLACE_FIELDS))


def bm25_text(tokens: list[str]) -> str:
    """Tokens as the whitespace analyser reads them (a token holding a space would split)."""
    return " ".join(t for t in tokens if t and not any(c.isspace() for c in t))
