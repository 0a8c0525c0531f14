"""Request bodies of the HTTP API, with the Chinese examples shown at /docs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ModeField = Literal["hybrid", "dense", "bm25"]


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "截至3月1日庆元县健康码申领率是多少", "k": 5, "mode": "hybrid"}]},
    )

    question: str = Field(description="the question, in Chinese or English")
    k: int = Field(5, description="number of passages, 1..50")
    mode: ModeField = "hybrid"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"role": "user", "content": "遂昌有多少家企业开工复工？"},
                        {"role": "assistant", "content": "截至2月22日,遂昌企业开工复工299家……[1]"},
                        {"role": "user", "content": "平湖呢？"},
                    ],
                    "k": 5,
                    "mode": "hybrid",
                }
            ]
        },
    )

    messages: list[Message] = Field(description="the conversation so far, oldest first; the last one is the user's")
    k: int = 5
    mode: ModeField = "hybrid"
