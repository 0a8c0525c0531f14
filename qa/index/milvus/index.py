"""Search over a Milvus collection: the same answers as the local index, from a shared store.

Dense and BM25 are two plain searches of the candidates (our fusion ranks
them: Milvus's WeightedRanker inverts BM25 in 2.5 and normalises with arctan).
The manifest and the document table are read once when the index is opened;
everything else is asked per question, so several API servers share one
collection and see an update as soon as it is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qa.errors import IndexMissingError
from qa.index.manifest import Manifest
from qa.index.milvus import store as ms
from qa.index.recipe import document_context
from qa.models import Chunk
from qa.settings import Settings
from qa.text.normalize import matching_form

CHUNK_FIELDS = [
    "id",
    "doc",
    "title",
    "article",
    "paragraph",
    "text",
    "start",
    "end",
    "line_start",
    "line_end",
    "origin",
]


def chunk_of(row: dict[str, Any]) -> Chunk:
    return Chunk(
        doc=row["doc"],
        title=row["title"],
        article=int(row["article"]),
        paragraph=int(row["paragraph"]),
        text=row["text"],
        start=int(row["start"]),
        end=int(row["end"]),
        line_start=int(row["line_start"]),
        line_end=int(row["line_end"]),
        id=f"{int(row['id']):016x}",
        origin=ms.origin_of(row["origin"]),
    )


def _ids(hex_ids: Iterable[str]) -> str:
    return "[" + ",".join(str(int(i, 16)) for i in hex_ids) + "]"


def _strings(values: Iterable[str]) -> str:
    return "[" + ",".join(ms.quoted(v) for v in values) + "]"


SENTENCES_PER_CHUNK = 64  # room in one search; a chunk with more falls back to a query
SEEN_MAX = 4096  # chunks kept from recent searches; a build's chunk id always names the same row


@dataclass(frozen=True)
class MilvusIndex:
    client: Any
    manifest: Manifest
    documents: dict[str, dict[str, Any]]
    prefix: str
    settings: Settings
    seen: dict[str, Chunk] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def open(cls, settings: Settings, client: Any = None) -> MilvusIndex:
        """``client``: a connection to reuse (a server reopening the index after an update)."""
        client = client or ms.connect(settings)
        manifest = ms.read_manifest(client, settings)
        if manifest is None:
            raise IndexMissingError(
                f"no index in Milvus at {ms.uri_of(settings)} (collection {settings.milvus_collection}): "
                "build one with `qa index [CORPUS_DIR] --store milvus`"
            )
        prefix = manifest.collections
        if not ms.current_schema(client, prefix):
            raise IndexMissingError(
                f"the Milvus index at {ms.uri_of(settings)} was built by an older wenyuan: "
                "rebuild it with `qa index [CORPUS_DIR] --store milvus`"
            )
        rows = ms.query_all(client, f"{prefix}_documents", 'name != ""', ["name", "info"], strong=True)
        documents = {r["name"]: json.loads(r["info"]) for r in sorted(rows, key=lambda r: r["name"])}
        return cls(client, manifest, documents, prefix, settings)

    def latest_build(self) -> str | None:
        manifest = ms.read_manifest(self.client, self.settings)
        return manifest.build if manifest else None

    def _chunks(self) -> str:
        return f"{self.prefix}_chunks"

    def _keep(self, hits: list[dict[str, Any]]) -> None:
        """Searches return the chunks' fields too, so ``chunks`` rarely needs a query of its own."""
        if len(self.seen) > SEEN_MAX:
            self.seen.clear()
        for hit in hits:
            chunk = chunk_of({"id": hit["id"], **hit["entity"]})
            self.seen[chunk.id] = chunk

    def dense(self, vector: np.ndarray, k: int) -> dict[str, float]:
        found = ms.call(
            "searching vectors",
            self.client.search,
            self._chunks(),
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="dense",
            limit=k,
            search_params={"metric_type": "IP"},
            output_fields=CHUNK_FIELDS,
        )
        self._keep(found[0])
        return {f"{int(hit['id']):016x}": float(hit["distance"]) for hit in found[0]}

    def lexical(self, tokens: list[str], k: int) -> dict[str, float]:
        words = [t for t in tokens if t and not any(c.isspace() for c in t)]
        if not words:
            return {}
        found = ms.call(
            "searching BM25",
            self.client.search,
            self._chunks(),
            data=[" ".join(words)],
            anns_field="sparse",
            limit=k,
            search_params={"metric_type": "BM25"},
            output_fields=CHUNK_FIELDS,
        )
        hits = [hit for hit in found[0] if hit["distance"] > 0]
        self._keep(hits)
        return {f"{int(hit['id']):016x}": float(hit["distance"]) for hit in hits}

    def chunks(self, ids: Iterable[str]) -> dict[str, Chunk]:
        wanted = list(ids)
        found = {i: c for i in wanted if (c := self.seen.get(i)) is not None}  # another thread may clear it
        missing = [i for i in wanted if i not in found]
        if missing:
            rows = ms.call(
                "reading chunks",
                self.client.query,
                self._chunks(),
                filter=f"id in {_ids(missing)}",
                output_fields=CHUNK_FIELDS,
            )
            found.update({f"{int(r['id']):016x}": chunk_of(r) for r in rows})
        return {i: found[i] for i in wanted if i in found}

    def document_chunks(self, doc: str) -> list[Chunk]:
        rows = ms.query_all(self.client, self._chunks(), f"doc == {ms.quoted(doc)}", CHUNK_FIELDS)
        return sorted((chunk_of(r) for r in rows), key=lambda c: c.start)

    def iter_chunks(self) -> Iterator[Chunk]:
        return iter([chunk_of(r) for r in ms.query_all(self.client, self._chunks(), "id >= 0", CHUNK_FIELDS)])

    def frequencies(self, tokens: list[str]) -> dict[str, int]:
        if not tokens:
            return {}
        rows = ms.call(
            "reading term statistics",
            self.client.query,
            f"{self.prefix}_terms",
            filter=f"term in {_strings(tokens)}",
            output_fields=["term", "df"],
        )
        return {r["term"]: int(r["df"]) for r in rows}

    def pinyin_words(self, keys: list[str]) -> dict[str, list[str]]:
        if not keys:
            return {}
        rows = ms.call(
            "reading pinyin keys",
            self.client.query,
            f"{self.prefix}_terms",
            filter=f"pinyin in {_strings(keys)}",
            output_fields=["term", "pinyin"],
        )
        out: dict[str, list[str]] = {}
        for row in sorted(rows, key=lambda r: r["term"]):
            out.setdefault(row["pinyin"], []).append(row["term"])
        return out

    def mentioning(self, docs: set[str], names: Sequence[str]) -> set[str]:
        found = {
            d
            for d in docs
            if any(
                n in matching_form(document_context(self.documents.get(d, {}).get("metadata", {})))
                for n in names
            )
        }
        rest = sorted(docs - found)
        if not rest or not names:
            return found
        # The names as BM25 words: an inverted-index search, where LIKE would scan every text (0.4 s at 100k chunks).
        words = [n for n in names if n and not any(c.isspace() for c in n)]
        if not words:
            return found
        hits = ms.call(
            "scoping by place",
            self.client.search,
            self._chunks(),
            data=[" ".join(words)],
            anns_field="sparse",
            filter=f"doc_key in [{','.join(str(ms.doc_key(d)) for d in rest)}]",
            limit=16_384,
            search_params={"metric_type": "BM25"},
            output_fields=["doc"],
        )
        return found | ({hit["entity"]["doc"] for hit in hits[0] if hit["distance"] > 0} & set(rest))

    def sentence_similarities(
        self, ids: Sequence[str], vector: np.ndarray
    ) -> dict[str, tuple[list[tuple[int, int]], list[float]]]:
        """A vector search restricted to the chunks' sentences: Milvus computes the similarities, and only
        those rows are read (a query for the vectors reads the whole collection on milvus-lite: 58 ms at 100k)."""
        if not ids:
            return {}
        limit = min(16_384, SENTENCES_PER_CHUNK * len(ids))
        found = ms.call(
            "scoring sentences",
            self.client.search,
            f"{self.prefix}_sentences",
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vector",
            filter=f"chunk in {_ids(ids)}",
            limit=limit,
            search_params={"metric_type": "IP"},
            output_fields=["chunk", "start", "end"],
        )[0]
        if len(found) >= limit:
            return self._sentence_similarities_by_query(ids, vector)
        grouped: dict[str, list[tuple[int, int, float]]] = {}
        for hit in found:
            row = hit["entity"]
            grouped.setdefault(f"{int(row['chunk']):016x}", []).append(
                (int(row["start"]), int(row["end"]), float(hit["distance"]))
            )
        return {
            cid: ([(s, e) for s, e, _ in sorted(g)], [d for _, _, d in sorted(g)])
            for cid, g in grouped.items()
        }

    def _sentence_similarities_by_query(
        self, ids: Sequence[str], vector: np.ndarray
    ) -> dict[str, tuple[list[tuple[int, int]], list[float]]]:
        rows = ms.query_all(
            self.client,
            f"{self.prefix}_sentences",
            f"chunk in {_ids(ids)}",
            ["chunk", "start", "end", "vector"],
        )
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(f"{int(row['chunk']):016x}", []).append(row)
        query = np.asarray(vector, dtype=np.float32)
        out = {}
        for cid, group in grouped.items():
            group.sort(key=lambda r: r["start"])
            vectors = np.asarray([r["vector"] for r in group], dtype=np.float32)
            out[cid] = (
                [(int(r["start"]), int(r["end"])) for r in group],
                [float(x) for x in vectors @ query],
            )
        return out
