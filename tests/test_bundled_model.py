"""The bundled model answers questions beside an upload's passages, not after them.

A question used to share the model's one thread with the passages being indexed and
waited for the call in progress; under write load every search took about that long.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from tests.write_load import big_document

QUESTION = "平湖有多少家企业复工"


def test_questions_are_answered_between_two_passage_calls(embedder):
    """Each question is timed against the passage calls finishing on another thread.

    Behind the passages, a question ends only after the call in progress (no question of
    ten falls between two calls); beside them it takes a fraction of one call.
    """
    passages = big_document(16).split("\n\n")[1:]
    alone = embedder.encode_queries([QUESTION])
    calls_done: list[float] = []
    result: dict[str, np.ndarray] = {}

    def index() -> None:
        result["vectors"] = embedder.encode_passages(passages, lambda n: calls_done.append(time.monotonic()))

    indexing = threading.Thread(target=index)
    indexing.start()
    while not calls_done:
        time.sleep(0.01)
    between, vectors = 0, []
    for _ in range(10):
        if not indexing.is_alive():
            break
        before = len(calls_done)
        vectors.append(embedder.encode_queries([QUESTION]))
        between += len(calls_done) == before
    indexing.join()

    assert between >= 6, f"{between} of {len(vectors)} questions ended between two passage calls"
    for vector in vectors:
        np.testing.assert_allclose(vector, alone, atol=1e-6)
    np.testing.assert_allclose(result["vectors"], embedder.encode_passages(passages), atol=1e-6)
