"""The build recipe both stores follow, and readers repeat: which text is embedded, which words BM25 counts.

A document becomes chunks and BM25 tokens here, and a chunk its embedded
text and its sentences; the options that shape them are recorded in the
manifest (``retrieval_text_options``), so a change forces a rebuild and a
server updating an index follows what that index was built with
(``settings_for_build``). Content keys name what a vector depends on, so
either store reuses a vector for the same text under the same model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import WenyuanError
from qa.index import model_record
from qa.index.manifest import Manifest
from qa.ingest.chunking import ChunkingConfig, chunk_document
from qa.models import Chunk, Document
from qa.settings import Settings
from qa.text import sentences
from qa.text.normalize import matching_form
from qa.text.tokenize import Segmenter

KEY_BYTES = 16
Span = tuple[int, int]


def retrieval_text_options(settings: Settings) -> dict[str, Any]:
    """What besides corpus and model shapes the stored index (so a change forces a rebuild)."""
    return {
        "title_in_embedding": settings.title_in_embedding,
        "jieba_mode": settings.jieba_mode,
        "jieba_user_dict": _user_dict_identity(settings.jieba_user_dict),
        "lexical_context": "publication",
        "lexical_script": "simplified",
        "sentence_vectors": True,
        "sentence_split": sentences.SPLIT_VERSION,
        "chunking": [settings.chunk_min_chars, settings.chunk_split_chars, settings.chunk_max_chars],
        "query_prefix": settings.query_prefix,
        "passage_prefix": settings.passage_prefix,
    }


def _user_dict_identity(path: Path | None) -> list[str] | None:
    """Path and content hash, so editing the dictionary forces a rebuild."""
    if path is None:
        return None
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise WenyuanError(f"cannot read the jieba user dictionary {path}: {exc.strerror}") from exc
    return [str(path.resolve()), digest]


def settings_for_build(settings: Settings, manifest: Manifest) -> Settings:
    """``settings`` with the model and text options a committed build was made with.

    A server updating its index must add to the index it serves, not to one
    its own environment would describe (another model would re-embed everything).
    """
    options = manifest.retrieval_text
    low, split, high = options.get(
        "chunking", [settings.chunk_min_chars, settings.chunk_split_chars, settings.chunk_max_chars]
    )
    return settings.model_copy(
        update={
            "model": manifest.model,
            "query_prefix": options.get("query_prefix", settings.query_prefix),
            "passage_prefix": options.get("passage_prefix", settings.passage_prefix),
            "title_in_embedding": options.get("title_in_embedding", settings.title_in_embedding),
            "jieba_mode": options.get("jieba_mode", settings.jieba_mode),
            "jieba_user_dict": user_dict_of(options),
            "chunk_min_chars": low,
            "chunk_split_chars": split,
            "chunk_max_chars": high,
            **model_record.settings_of(manifest.embedder, settings),
        }
    )


def user_dict_of(options: dict[str, Any]) -> Path | None:
    entry = options.get("jieba_user_dict")
    return Path(entry[0]) if entry else None


def chunking_config(settings: Settings) -> ChunkingConfig:
    return ChunkingConfig(settings.chunk_min_chars, settings.chunk_split_chars, settings.chunk_max_chars)


def embedding_text(chunk: Chunk, with_title: bool) -> str:
    return f"{chunk.title}\n{chunk.text}" if with_title and chunk.title else chunk.text


def lexical_text(chunk: Chunk, context: str = "") -> str:
    """Headline and document context (e.g. ``嘉兴日报·平湖版``) count as words of every chunk.

    Local papers write 我市/我县 where a reader asks about 平湖 or 遂昌; the
    edition's name is what ties such a paragraph to its place.
    """
    return "\n".join(part for part in (context, chunk.title, chunk.text) if part)


def document_context(metadata: dict[str, str]) -> str:
    return metadata.get("publication", "")


def content_key(model_id: str, prefix: str, text: str) -> bytes:
    """What a vector depends on; equal keys, equal vectors."""
    record = "\x00".join((model_id, prefix, text)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(record, digest_size=KEY_BYTES).digest()


def split_sentences(chunks: Sequence[Chunk]) -> tuple[list[list[Span]], list[str]]:
    """Every chunk's sentence spans, and the sentences' texts in row order."""
    spans = [sentences.spans(c.text) for c in chunks]
    return spans, [c.text[s:e] for c, row in zip(chunks, spans) for s, e in row]


@dataclass(frozen=True)
class DocumentPart:
    """One document's chunks and their BM25 tokens, ready to go into a build."""

    chunks: list[Chunk]
    tokens: list[list[str]]


class Parts:
    """A document's chunks and BM25 tokens; jieba is loaded on first need (half a second)."""

    def __init__(self, settings: Settings, segmenter: Segmenter | None = None) -> None:
        self.settings = settings
        self.segmenter = segmenter

    def of(self, doc: Document) -> DocumentPart:
        chunks = chunk_document(doc, chunking_config(self.settings))
        if self.segmenter is None:
            self.segmenter = Segmenter(self.settings.jieba_mode, self.settings.jieba_user_dict)
        context = document_context(doc.metadata)
        tokens = [self.segmenter.tokens(matching_form(lexical_text(c, context))) for c in chunks]
        return DocumentPart(chunks, tokens)


def document_infos(documents: list[Document], hashes: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What a build records of each document: encoding, metadata, size and the hash that tells it changed."""
    return {
        d.name: {
            "encoding": d.encoding,
            "metadata": d.metadata,
            "chars": len(d.text),
            "sha256": hashes[d.name],
        }
        for d in documents
    }


def with_summaries(documents: dict[str, dict[str, Any]], chunks: list[Chunk]) -> dict[str, dict[str, Any]]:
    """Each document's headlines in order and its chunk count, which the documents list shows."""
    out = {name: {**info, "titles": [], "chunks": 0} for name, info in documents.items()}
    for chunk in chunks:
        entry = out[chunk.doc]
        entry["chunks"] += 1
        if chunk.title not in entry["titles"]:
            entry["titles"].append(chunk.title)
    return out
