"""Documents as the reader sees them: article headlines and cleaned paragraphs, from the index."""

from __future__ import annotations

from typing import Any

from qa.index.search_index import SearchIndex


def summaries(index: SearchIndex) -> list[dict[str, Any]]:
    return [
        {"doc": name, "titles": info.get("titles", []), "chunks": info.get("chunks", 0), "metadata": info.get("metadata", {})}
        for name, info in index.documents.items()
    ]


def detail(index: SearchIndex, doc: str) -> dict[str, Any]:
    articles: dict[int, dict[str, Any]] = {}
    for chunk in index.document_chunks(doc):
        article = articles.setdefault(chunk.article, {"article": chunk.article, "title": chunk.title, "paragraphs": []})
        article["paragraphs"].append(
            {
                "paragraph": chunk.paragraph,
                "text": chunk.text,
                "start": chunk.start,
                "end": chunk.end,
                "line_start": chunk.line_start,
                "line_end": chunk.line_end,
            }
        )
    return {
        "doc": doc,
        "metadata": index.documents[doc].get("metadata", {}),
        "articles": [articles[i] for i in sorted(articles)],
    }
