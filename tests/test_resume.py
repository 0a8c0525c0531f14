"""A ``qa index`` killed with ``kill -9`` halfway restarts where it stopped, and builds what an uninterrupted run builds.

Through the embedding-server stand-in (fixed vectors, a short delay per
request), so the test knows exactly which texts each run sent.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings.base import Delegating
from embeddings.factory import embedder_for
from qa.index import resume_cache
from qa.index.files import read_json
from qa.index.local import faiss_index, sentence_index, store
from qa.index.local.writer import build_index
from qa.index.progress_meter import Meter, duration
from qa.index.vectors import CHECKPOINT
from qa.settings import Settings
from tests.conftest import ROOT, SEEDS, local_only
from tests.embedding_standin import Faults, running

pytestmark = local_only
BATCH, CONCURRENCY = 8, 2
HELLO_AND_PROBES = 4  # what every run sends besides the corpus: the start-up text and the probe texts


def corpus_texts(inputs: list[str]) -> list[str]:
    return [t for t in inputs if t.startswith("passage: ") and t != "passage: 问源"]


def qa_index(standin, index_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "WENYUAN_EMBED_BATCH_SIZE": str(BATCH),
        "WENYUAN_EMBED_CONCURRENCY": str(CONCURRENCY),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            str(SEEDS),
            "--index-dir",
            str(index_dir),
            "--json",
            "--embedder",
            "openai",
            "--embed-url",
            standin.base_url,
            "--embed-model",
            "e5",
            "--passage-prefix",
            "passage: ",
            "--query-prefix",
            "query: ",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def build_files(index_dir: Path) -> tuple[list, np.ndarray, np.ndarray, list[bytes]]:
    build = index_dir / store.read_manifest(index_dir).build
    _, vectors = faiss_index.stored_vectors(faiss_index.load(build / store.VECTORS))
    sentences = np.load(build / sentence_index.VECTORS, allow_pickle=False)
    return (
        read_json(build / store.CHUNKS),
        vectors,
        sentences,
        store.load_keys(build / sentence_index.KEYS),
    )


def test_a_killed_run_resumes_and_equals_an_uninterrupted_build(tmp_path):
    with running("precomputed") as standin:
        reference = Settings(
            index_dir=tmp_path / "whole",
            embedder="openai",
            embed_url=standin.base_url,
            embed_model="e5",
            query_prefix="query: ",
            passage_prefix="passage: ",
            embed_batch_size=BATCH,
            embed_concurrency=CONCURRENCY,
        )
        build_index(SEEDS, reference, embedder_for(reference), progress=False)
        whole = len(corpus_texts(standin.inputs))
        standin.inputs.clear()
        standin.faults = Faults(delay_s=0.05)

        index_dir = tmp_path / "killed"
        proc = qa_index(standin, index_dir)
        deadline = time.monotonic() + 120
        while (
            len(corpus_texts(standin.inputs)) < whole // 2
            and time.monotonic() < deadline
            and proc.poll() is None
        ):
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        time.sleep(0.3)  # requests the kill left in flight finish on the server's side
        first = len(corpus_texts(standin.inputs))
        assert whole // 2 <= first < whole and store.read_manifest(index_dir) is None
        assert list((index_dir / resume_cache.FOLDER).rglob("*.keys.npy"))

        standin.inputs.clear()
        proc = qa_index(standin, index_dir)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        report = json.loads(out)["embedding"]
        second = len(corpus_texts(standin.inputs))
    assert report["resumed"] > 0 and report["embedded"] == second
    assert sum(report[stage]["texts"] for stage in ("passages", "sentences") if stage in report) == second
    again = first + second - whole
    print(
        f"resume: {whole} texts; the killed run sent {first}, the second {second} ({report['resumed']} resumed): {again} embedded again"
    )
    assert 0 <= again <= BATCH * CONCURRENCY, (
        first,
        second,
        whole,
    )  # at most one batch per request in flight
    assert "embedding sentences:" in err and "texts/s" in err  # progress on stderr even with --json
    assert not (index_dir / resume_cache.FOLDER).exists()
    for mine, theirs in zip(build_files(index_dir), build_files(reference.index_dir)):
        assert np.array_equal(mine, theirs) if isinstance(mine, np.ndarray) else mine == theirs


class Failing(Delegating):
    """The bundled model, failing after ``calls`` passage calls: a run that dies partway."""

    def __init__(self, inner, calls: int) -> None:
        super().__init__(inner)
        self.calls = calls

    def encode_passages(self, texts, progress=None):
        if self.calls == 0:
            raise RuntimeError("the run dies here")
        self.calls -= 1
        return self.inner.encode_passages(texts, progress)


def test_a_local_model_run_resumes_from_the_batches_it_kept(small_corpus, tmp_path, embedder):
    whole = build_index(small_corpus, Settings(index_dir=tmp_path / "whole"), embedder, progress=False)
    s = Settings(index_dir=tmp_path / "idx")
    with pytest.raises(RuntimeError, match="dies here"):
        build_index(small_corpus, s, Failing(embedder, 2), progress=False)
    assert store.read_manifest(s.index_dir) is None
    assert (
        len(list((s.index_dir / resume_cache.FOLDER).rglob("*.keys.npy"))) == 2
    )  # one file pair per finished call
    report = build_index(small_corpus, s, embedder, progress=False)
    assert (
        report.embedding.resumed > CHECKPOINT
    )  # the two calls that finished: all the passages and a window of sentences
    assert report.embedding.resumed + report.embedding.embedded == whole.embedding.embedded
    mine, theirs = build_files(s.index_dir), build_files(tmp_path / "whole")
    assert mine[0] == theirs[0] and mine[3] == theirs[3]
    assert np.allclose(mine[1], theirs[1], atol=1e-5) and np.allclose(mine[2], theirs[2], atol=1e-5)


def test_progress_says_texts_rate_eta_and_retries():
    out = io.StringIO()
    retries = iter(range(100))
    meter = Meter("embedding passages", 200, lambda: next(retries), stream=out)
    meter.advance(50)
    meter.advance(150)
    meter.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("embedding passages: 50/200 texts (25%), ") and "texts/s, ETA " in lines[0]
    assert re.fullmatch(
        r"embedding passages: 200/200 texts \(100%\), [\d.]+ texts/s, ETA 0s, \d+ retries", lines[-1]
    )
    assert duration(3725) == "1h02m" and duration(185) == "3m05s" and duration(12) == "12s"
