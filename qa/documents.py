"""Documents as the reader sees them: article headlines and cleaned paragraphs, from the chunk table."""

from __future__ import annotations

from typing import Any

from qa.retrieval import LoadedIndex


def summaries(index: LoadedIndex) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, info in index.documents.items():
        out[name] = {"doc": name, "titles": [], "chunks": 0, "metadata": info.get("metadata", {})}
    for chunk in index.chunks:
        entry = out[chunk.doc]
        entry["chunks"] += 1
        if chunk.title not in entry["titles"]:
            entry["titles"].append(chunk.title)
    return list(out.values())


def detail(index: LoadedIndex, doc: str) -> dict[str, Any]:
    articles: dict[int, dict[str, Any]] = {}
    for chunk in index.chunks:
        if chunk.doc != doc:
            continue
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
