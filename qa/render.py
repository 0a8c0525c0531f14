"""Plain-text rendering of results for terminals (the JSON form lives on the models)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from qa.models import Hit, SearchResult

if TYPE_CHECKING:
    from qa.index.pipeline import IndexReport


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def citation_line(hit: Hit) -> str:
    c = hit.citation
    extra = " ".join(v for v in (c.metadata.get("publication"), c.metadata.get("date")) if v)
    where = f"{c.doc} · 第{c.paragraph}段 · 第{c.line_start}–{c.line_end}行 · 字符 {c.start}–{c.end}"
    return f"《{c.title}》 {where}" + (f" · {extra}" if extra else "")


def render_hit(hit: Hit, width: int = 76) -> str:
    s, e = hit.highlight
    answer = hit.text[s:e]
    body = textwrap.fill(
        " ".join(hit.text.split()), width=width, initial_indent="    ", subsequent_indent="    "
    )
    scores = f"fused {_score(hit.scores.fused)} · bm25 {_score(hit.scores.bm25)} · dense {_score(hit.scores.dense)}"
    return f"[{hit.rank}] {citation_line(hit)}\n    {scores}\n    ▶ {answer}\n{body}"


def render_result(result: SearchResult) -> str:
    head = f"问题: {result.question}  (mode {result.mode}, {result.took_ms:.1f} ms)"
    if not result.hits:
        return head + "\n没有找到相关段落。"
    return head + "\n\n" + "\n\n".join(render_hit(h) for h in result.hits)


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def render_index_report(report: IndexReport, index_dir: Path) -> str:
    """What a ``qa index`` run did, in two or three lines for the terminal."""
    m, c = report.manifest, report.changes
    where = f"{m.chunks} chunks from {m.documents} documents, model {m.model_id}, in {index_dir}"
    if not report.rebuilt:
        return f"index up to date (corpus and model unchanged; --force re-embeds everything): {where}"
    parts = [
        f"{len(c.added)} added",
        f"{len(c.changed)} changed",
        f"{len(c.removed)} removed",
        f"{c.unchanged} unchanged",
    ]
    lines = [f"index built in {report.seconds:.1f} s: documents {', '.join(parts)}; {where}"]
    for label, names in (("added", c.added), ("changed", c.changed), ("removed", c.removed)):
        if names:
            lines.append(f"  {label}: {_names(names)}")
    lines.append(
        f"  passages: {report.embedded} embedded, {report.reused} reused; "
        f"sentences: {report.sentences_embedded} embedded, {report.sentences_reused} reused; build {m.build}"
    )
    e = report.embedding
    if e.embedded or e.resumed:
        lines.append(
            f"  embedding: {e.embedded} texts in {e.seconds:.1f} s ({e.embedded / e.seconds if e.seconds else 0:.1f} texts/s), "
            f"{e.resumed} kept from an interrupted run, {e.retries} retries"
        )
    return "\n".join(lines)
