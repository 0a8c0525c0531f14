"""The index knows its model: which embedder made its vectors, and how that model embeds a few fixed texts.

A model name is not an identity: an embedding server can swap the weights
behind the same name, and a vector from another model is not wrong-looking,
only meaningless. So the manifest records the embedder (kind, model, server,
dimension, prefixes) and the vectors of ``PROBES``; serving or updating an
index with an embedder that differs, or that embeds the probes differently,
is refused with what differs. An index built before this record is treated
as unknown and served as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from embeddings.base import Embedder
from embeddings.factory import BUNDLED
from qa.errors import WenyuanError
from qa.settings import Settings

PROBES = ("问源", "截至3月1日庆元县健康码申领率是多少", "The quick brown fox jumps over the lazy dog.")
# The 4-bit engine and a server running it agree to ≥ 0.9999; another model lands far below.
MIN_COSINE = 0.999
IDENTITY = ("kind", "model", "dimension", "query_prefix", "passage_prefix")


def kind_of(settings: Settings) -> str:
    if settings.embedder == "openai":
        return "openai"
    return BUNDLED if settings.model == BUNDLED else "sentence-transformers"


def describe(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """What the manifest records: the identity of the embedder and its vectors of the probe texts."""
    kind = kind_of(settings)
    record: dict[str, Any] = {
        "kind": kind,
        "model": settings.embed_model if kind == "openai" else settings.model,
        "model_id": embedder.model_id,
        "dimension": embedder.dimension,
        # The bundled engine adds e5's prefixes itself; the others get ours.
        "query_prefix": "query: " if kind == BUNDLED else settings.query_prefix,
        "passage_prefix": "passage: " if kind == BUNDLED else settings.passage_prefix,
        "probes": probe_vectors(embedder),
    }
    if kind == "openai":
        record["url"] = settings.embed_url or ""
    return record


def probe_vectors(embedder: Embedder) -> list[list[float]]:
    """The probe texts' query vectors, to six decimals (enough to tell models apart, short in JSON)."""
    return [[round(float(x), 6) for x in row] for row in embedder.encode_queries(list(PROBES))]


def settings_of(record: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Settings updates that make the embedder the record names (the server URL only when none is configured)."""
    if record.get("kind") != "openai":
        return {"embedder": "local"}
    return {
        "embedder": "openai",
        "embed_model": record.get("model", ""),
        "embed_url": settings.embed_url or record.get("url"),
    }


def check(record: dict[str, Any], settings: Settings, embedder: Embedder, what: str) -> None:
    """Refuse ``embedder`` for an index whose record says otherwise; an index without a record is not checked.

    ``what`` names the action in the message (``serving``, ``updating``).
    """
    if not record:
        return
    now = describe(settings, embedder)
    differs = [
        f"{key} {record.get(key)!r} → {now.get(key)!r}" for key in IDENTITY if record.get(key) != now.get(key)
    ]
    if not differs:
        cosine = least_cosine(record.get("probes"), now["probes"])
        if cosine < MIN_COSINE:
            differs.append(
                f"the probe texts embed differently (cosine {cosine:.4f} < {MIN_COSINE}): "
                "the model behind that name has changed"
            )
    if differs:
        raise WenyuanError(
            f"{what} refused: the index was built with another embedding model ({'; '.join(differs)}); "
            "use the model it was built with, or rebuild with `qa index --force`"
        )


def check_update(
    record: dict[str, Any], settings: Settings, embedder: Embedder, what: str, warn: Callable[[str], None]
) -> None:
    """Before adding to an index: another model is a deliberate switch (nothing of the old one is reused, since
    content keys name the model), but the same model that now embeds differently would mix two models' vectors.
    Moving between an embedding server and a local model is refused too: a run that forgot ``--embedder openai``
    would otherwise spend hours re-embedding a server-built corpus on this machine."""
    switching = {record.get("kind"), kind_of(settings)} if record else set()
    if "openai" in switching and len(switching) == 2:
        check(record, settings, embedder, what)
    if record and record.get("model_id") != embedder.model_id:
        warn(
            f"note: the index was built with {record.get('model_id')}; everything is embedded again with {embedder.model_id}"
        )
        return
    check(record, settings, embedder, what)


def least_cosine(recorded: Any, now: list[list[float]]) -> float:
    try:
        old = np.asarray(recorded, dtype=np.float64)
        new = np.asarray(now, dtype=np.float64)
        if old.shape != new.shape or old.ndim != 2:
            return -1.0
        old /= np.maximum(np.linalg.norm(old, axis=1, keepdims=True), 1e-12)
        new /= np.maximum(np.linalg.norm(new, axis=1, keepdims=True), 1e-12)
        return float((old * new).sum(axis=1).min())
    except (TypeError, ValueError):
        return -1.0
