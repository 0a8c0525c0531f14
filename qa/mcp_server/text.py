"""The text half of each tool result and resource: what a model reads and quotes, with every citation spelled out.

The JSON half is the API's object; this is derived from it alone, so the two
never disagree. Offsets are written as in /api (``字符 start–end`` into the
source file), so a quote can be checked against ``source[start:end]``.
"""

from __future__ import annotations

from typing import Any


def where(c: dict[str, Any]) -> str:
    """One citation as a line: headline, document, paragraph, lines and character span."""
    extra = " · ".join(str(c[k]) for k in ("publication", "date") if c.get(k))
    line = f"《{c['title']}》 {c['doc']} · 第{c['paragraph']}段 · 第{c['line_start']}–{c['line_end']}行 · 字符 {c['start']}–{c['end']}"
    return line + (f" · {extra}" if extra else "")


def search(found: dict[str, Any]) -> str:
    head = f"问题 Question: {found['question']} (mode {found['mode']})"
    if not found["hits"]:
        return head + "\n没有找到相关段落。No passage found."
    parts = [head]
    for hit in found["hits"]:
        start, end = hit["highlight"]
        parts.append(
            f"[{hit['rank']}] {where(hit['citation'])}\n答案句 Answer sentence: {hit['text'][start:end]}\n{hit['text']}"
        )
    return "\n\n".join(parts)


def documents(listed: dict[str, Any]) -> str:
    if not listed["documents"]:
        return "语料库为空。The corpus is empty."
    lines = [f"{len(listed['documents'])} 篇文档 documents:"]
    for d in listed["documents"]:
        meta = " · ".join(str(d["metadata"][k]) for k in ("publication", "date") if d["metadata"].get(k))
        lines.append(
            f"- {d['doc']} ({d['chunks']} passages{', ' + meta if meta else ''}): " + "；".join(d["titles"])
        )
    return "\n".join(lines)


def document(detail: dict[str, Any]) -> str:
    lines = [f"文档 Document: {detail['doc']}"]
    for a in detail["articles"]:
        lines.append(f"\n## [{a['article']}] {a['title']}")
        for p in a["paragraphs"]:
            lines.append(
                f"\n({p['paragraph']}) [第{p['line_start']}–{p['line_end']}行 · 字符 {p['start']}–{p['end']}]\n{p['text']}"
            )
    return "\n".join(lines)
