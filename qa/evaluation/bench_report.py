"""``qa bench``'s report as text: the tables and notes, and the scale goals checked on its figures."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from qa.settings import MODES


def goals(scale: list[dict[str, Any]]) -> dict[str, float] | None:
    """The scale goals, smallest size against largest: latency ratio (issue 20: ≤ 1.3), and memory growth per payload byte (issue 10: ≤ 1.5)."""
    if len(scale) < 2:
        return None
    small, large = min(scale, key=lambda r: r["chunks"]), max(scale, key=lambda r: r["chunks"])
    payload = sum(large["payload_mb"].values()) - sum(small["payload_mb"].values())
    return {
        "from": small["chunks"],
        "to": large["chunks"],
        "hybrid_p50_ratio": large["latency_ms"]["hybrid"]["p50"] / small["latency_ms"]["hybrid"]["p50"],
        "serving_growth_mb": large["serving_mb"] - small["serving_mb"],
        "payload_growth_mb": payload,
        "memory_ratio": (large["serving_mb"] - small["serving_mb"]) / payload
        if payload > 0
        else float("nan"),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def _table(title: str, cols: list[tuple[str, Callable[[dict], Any]]], rows: list[dict]) -> str:
    cells = [[h for h, _ in cols]] + [[_fmt(get(r)) for _, get in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = [title] + ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(2, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _lat(mode: str, p: str) -> Callable[[dict], float]:
    return lambda r: r["latency_ms"][mode][p]


def format_report(report: dict[str, Any]) -> str:
    """Plain-text tables for stdout and the README."""
    s = report["seeds"]
    emb = s["query_embed_ms"]["p50"]
    where = report.get("store", "local")
    lat_cols = [(f"{m} p{p}", _lat(m, f"p{p}")) for m in MODES for p in (50, 95)]
    seeds = _table(
        f"seeds/ (real model, real index, {where} store)",
        [
            ("chunks", lambda r: r["chunks"]),
            ("build s", lambda r: r["build_s"]),
            ("embed s", lambda r: r["embed_s"]),
            ("texts/s", lambda r: r["passages_per_s"]),
            ("q-embed p50 ms", lambda r: r["query_embed_ms"]["p50"]),
            *lat_cols,
            ("hybrid/q-embed", lambda r: r["latency_ms"]["hybrid"]["p50"] / emb),
            ("disk MB", lambda r: r["disk_mb"]),
            ("peak RSS MB", lambda r: r["peak_rss_mb"]),
        ],
        [s],
    )

    def est(r: dict) -> object:
        return r["embed_s"] if r["embed_s"] is not None else f"~{_fmt(r['embed_s_estimate'])}"

    engine = "bm25s + FAISS" if where == "local" else "Milvus"
    scale = _table(
        f"synthetic corpora, {where} store (real jieba + {engine} + Retriever.search; latencies in ms)",
        [
            ("chunks", lambda r: r["chunks"]),
            ("sentences", lambda r: r["sentences"]),
            ("vectors", lambda r: r["vectors"]),
            ("index", lambda r: r["index"]),
            ("seg s", lambda r: r["seg_s"]),
            ("bm25 s", lambda r: r["bm25_s"]),
            ("faiss s", lambda r: r["faiss_s"]),
            ("write s", lambda r: r["write_s"]),
            ("embed s", est),
            ("load s", lambda r: r["load_s"]),
            *lat_cols,
            ("payload MB", lambda r: sum(r["payload_mb"].values())),
            ("serving MB", lambda r: r["serving_mb"]),
            ("milvus RSS MB", lambda r: r["server_rss_mb"]),
            ("peak RSS MB", lambda r: r["peak_rss_mb"]),
            ("disk MB", lambda r: r["disk_mb"]),
        ],
        report["scale"],
    )
    parts = [seeds, scale]
    if report["faiss"]:
        parts.append(
            _table(
                f"FAISS: the index a build picks against exact search, one query at a time, k={report['faiss'][0]['k']}",
                [
                    ("chunks", lambda r: r["chunks"]),
                    ("vectors", lambda r: r["vectors"]),
                    ("index", lambda r: r["index"]),
                    ("exact p50 ms", lambda r: r["exact_ms"]["p50"]),
                    ("exact p95 ms", lambda r: r["exact_ms"]["p95"]),
                    ("index p50 ms", lambda r: r["index_ms"]["p50"]),
                    ("index p95 ms", lambda r: r["index_ms"]["p95"]),
                    ("recall@10", lambda r: r["recall_at_10"]),
                    ("exact MB", lambda r: r["exact_mb"]),
                    ("index MB", lambda r: r["index_mb"]),
                ],
                report["faiss"],
            )
        )
    notes = [
        f"model {report['model']}: {_fmt(report['passages_per_s'])} texts/s measured on "
        f"{report['passages_measured']} synthetic chunks; 'embed s' with ~ is extrapolated from that rate "
        "(chunks and their sentences, which the chat's quote choice needs).",
        "vectors=synthetic: mean of the real seed vectors of the chunk's source sentences + gaussian noise "
        f"(sigma {report['noise_sigma']}/dim), renormalised; a sentence gets its chunk's vector + fresh noise; "
        "queries are real question embeddings.",
        f"latency: {report['queries']} questions x {report['repeats']} repeats per mode, warm; hybrid and dense "
        f"include the query embedding (q-embed p50 {_fmt(emb)} ms)."
        + (f" FAISS rows: {report['faiss_queries']} questions." if report["faiss"] else ""),
        "payload: passage + sentence vectors and UTF-8 text; serving: memory the opened index adds to this "
        "process after searching, plus the embedded Milvus process (milvus RSS); peak RSS is this process's high-water mark.",
    ]
    g = report.get("goals")
    if g:
        notes.append(
            f"goals {g['from']} -> {g['to']} chunks: hybrid p50 ratio {g['hybrid_p50_ratio']:.2f} (goal <= 1.3); "
            f"serving memory grew {_fmt(g['serving_growth_mb'])} MB for {_fmt(g['payload_growth_mb'])} MB of payload, "
            f"ratio {g['memory_ratio']:.2f} (goal <= 1.5)."
        )
    notes.append(
        f"total run {_fmt(report['total_s'])} s; 1-min load average {_fmt(report['load_average'][0])} at start, "
        f"{_fmt(report['load_average'][1])} at end on {os.cpu_count()} cores"
        + (
            " (busy machine: timings include contention)."
            if max(report["load_average"]) > (os.cpu_count() or 1)
            else "."
        )
    )
    return "\n\n".join([*parts, "\n".join(notes)])
