"""`qa bench` smoke test: a tiny run with the real model yields every row and key, with positive numbers, on both stores.

No timing thresholds: the numbers depend on the machine; only their shape is checked.
"""

import pytest

from qa.evaluation.bench import run_bench
from qa.evaluation.bench_report import format_report
from qa.settings import MODES, Settings


@pytest.mark.parametrize("store", ["local", "milvus"])
def test_bench_tiny_run_reports_every_number(store: str) -> None:
    report = run_bench(
        [120, 300], sample=16, n_questions=4, repeats=1, log=lambda _msg: None, settings=Settings(store=store)
    )
    seeds = report["seeds"]
    assert report["store"] == store
    assert seeds["chunks"] > 100 and seeds["build_s"] > 0 and seeds["passages_per_s"] > 0
    assert seeds["query_embed_ms"]["p50"] > 0 and seeds["disk_mb"] > 0 and seeds["peak_rss_mb"] > 0
    assert report["passages_per_s"] > 0 and report["passages_measured"] == 16
    small, row = report["scale"]
    assert (
        row["chunks"] == 300
        and row["vectors"] == "synthetic"
        and row["index"] == ("flat" if store == "local" else "milvus")
    )
    assert (
        row["sentences"] > row["chunks"]
        and row["seg_s"] > 0
        and row["embed_s_estimate"] > 0
        and row["disk_mb"] > 0
    )
    assert row["payload_mb"]["vectors"] > small["payload_mb"]["vectors"] > 0 and row["serving_mb"] > 0
    assert (row["server_rss_mb"] or 0) > 0 if store == "milvus" else row["server_rss_mb"] is None
    for latency in (seeds["latency_ms"], row["latency_ms"]):
        assert set(latency) == set(MODES)
        assert all(0 < latency[m]["p50"] <= latency[m]["p95"] for m in MODES)
    goals = report["goals"]
    assert (
        goals["from"] == 120
        and goals["to"] == 300
        and goals["hybrid_p50_ratio"] > 0
        and goals["payload_growth_mb"] > 0
    )
    text = format_report(report)
    assert "seeds/" in text and f"{store} store" in text and "goals 120 -> 300" in text
    if store == "local":
        [_, faiss] = report["faiss"]
        assert faiss["chunks"] == 300 and faiss["index"] == "flat" and faiss["recall_at_10"] == 1.0
        assert faiss["exact_ms"]["p50"] > 0 and faiss["index_ms"]["p50"] > 0 and faiss["index_mb"] > 0
        assert "recall@10" in text
    else:
        assert report["faiss"] == [] and "milvus RSS MB" in text
