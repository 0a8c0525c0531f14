"""`qa bench` smoke test: a tiny run with the real model yields every row and key, with positive numbers.

No timing thresholds: the numbers depend on the machine; only their shape is checked.
"""

from qa.bench import format_report, run_bench
from qa.settings import MODES


def test_bench_tiny_run_reports_every_number() -> None:
    report = run_bench([300], sample=16, n_questions=4, repeats=1, log=lambda _msg: None)
    seeds = report["seeds"]
    assert seeds["chunks"] > 100 and seeds["build_s"] > 0 and seeds["passages_per_s"] > 0
    assert seeds["query_embed_ms"]["p50"] > 0 and seeds["disk_mb"] > 0 and seeds["peak_rss_mb"] > 0
    assert report["passages_per_s"] > 0 and report["passages_measured"] == 16
    [row] = report["scale"]
    assert row["chunks"] == 300 and row["vectors"] == "synthetic" and row["faiss"] == "flat"
    assert row["seg_s"] > 0 and row["bm25_s"] > 0 and row["embed_s_estimate"] > 0 and row["disk_mb"] > 0
    for latency in (seeds["latency_ms"], row["latency_ms"]):
        assert set(latency) == set(MODES)
        assert all(0 < latency[m]["p50"] <= latency[m]["p95"] for m in MODES)
    [faiss] = report["faiss"]
    assert faiss["chunks"] == 300 and 0.0 <= faiss["hnsw_recall_at_10"] <= 1.0
    assert faiss["flat_ms"]["p50"] > 0 and faiss["hnsw_ms"]["p50"] > 0 and faiss["hnsw_mb"] > faiss["flat_mb"] > 0
    text = format_report(report)
    assert "seeds/" in text and "synthetic" in text and "recall@10" in text
