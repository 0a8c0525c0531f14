"""The manifest: what one committed build is (model, corpus fingerprint, text options, counts), in either store.

The local store keeps it as ``manifest.json`` beside its build folders
(qa/index/local/store.py); Milvus as a row of its meta collection
(qa/index/milvus/store.py). Both write the same fields, so a reader,
``qa index --json`` and the API describe a build alike wherever it lives.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

FORMAT = 3


@dataclass(frozen=True)
class Manifest:
    build: str
    model: str
    model_id: str
    dimension: int
    corpus_dir: str
    fingerprint: str
    chunker_version: str
    retrieval_text: dict[str, Any]
    chunks: int
    documents: int
    faiss: str
    created: str
    build_seconds: float
    format: int = FORMAT
    previous: str = ""
    collections: str = ""  # the Milvus store: name prefix of the collections this build's data is in
    # The embedder and its vectors of fixed probe texts (qa/index/model_record.py); {} in an older index: unknown.
    embedder: dict[str, Any] = field(default_factory=dict)

    def matches(
        self, *, model_id: str, fingerprint: str, chunker_version: str, retrieval_text: dict[str, Any]
    ) -> bool:
        """True when rebuilding would produce the same index."""
        return (
            self.format == FORMAT
            and self.model_id == model_id
            and self.fingerprint == fingerprint
            and self.chunker_version == chunker_version
            and self.retrieval_text == retrieval_text
        )


def new_build_name() -> str:
    return f"build-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
