"""Fitted models that pick the quoted sentence and decide whether to answer at all.

Both were fitted on public reading-comprehension data plus the shipped
question set by ``scripts/fit_answers.py`` and ship as one small JSON file
(``answer_model.json``): gradient-boosted trees or a logistic regression,
evaluated here with numpy alone, so serving needs no scikit-learn and loads
no pickle. Data attribution is inside the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import WenyuanError

SHIPPED_MODEL = Path(__file__).with_name("answer_model.json")


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


@dataclass(frozen=True)
class Logistic:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(((x - self.mean) / self.scale) @ self.coef + self.intercept)


@dataclass(frozen=True)
class Trees:
    """Binary gradient-boosted trees as one flat node array, a tree's nodes after the one before's.

    Every row walks all trees together, one step at a time: ``roots`` lists the
    trees deepest first and ``walking[s]`` says how many of them still have a
    step ``s`` to take, so a step touches only trees not yet at a leaf (the
    shipped ranking trees are 7 steps deep on average, 11 at most; over 40
    candidates 1.15 ms instead of 1.8, the same probabilities to the bit).
    Leaves point to themselves. This sits inside every chat answer.
    """

    features: tuple[str, ...]
    baseline: float
    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    missing_left: np.ndarray
    walking: tuple[int, ...]
    in_file_order: np.ndarray  # each tree's row of ``roots``: leaf values are summed in the file's order

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        n, width = x.shape
        flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
        row = np.arange(n) * width
        node = np.repeat(self.roots[:, None], n, axis=1)
        missing = bool(np.isnan(flat).any())
        for count in self.walking:
            at = node[:count]
            vals = flat[row + self.feature[at]]
            go_left = vals <= self.threshold[at]
            if missing:
                go_left = np.where(np.isnan(vals), self.missing_left[at], go_left)
            node[:count] = np.where(go_left, self.left[at], self.right[at])
        leaves = np.ascontiguousarray(self.value[node[self.in_file_order]].T)  # summed as the fitting summed
        return sigmoid(self.baseline + leaves.sum(axis=1))


def _steps(left: np.ndarray, right: np.ndarray, roots: np.ndarray, leaf: np.ndarray) -> np.ndarray:
    """How many steps each tree's deepest leaf lies below its root."""
    below = np.zeros(leaf.size, dtype=np.int64)
    for _ in range(leaf.size):
        deeper = np.where(leaf, 0, 1 + np.maximum(below[left], below[right]))
        if np.array_equal(deeper, below):
            break
        below = deeper
    return below[roots]


Model = Logistic | Trees


def model_from_json(spec: dict[str, Any]) -> Model:
    features = tuple(spec["features"])
    if spec["kind"] == "logistic":
        return Logistic(
            features,
            np.asarray(spec["mean"], dtype=np.float64),
            np.asarray(spec["scale"], dtype=np.float64),
            np.asarray(spec["coef"], dtype=np.float64),
            float(spec["intercept"]),
        )
    if spec["kind"] == "trees":
        trees = spec["trees"]
        roots = np.cumsum([0] + [len(t["feature"]) for t in trees[:-1]]).astype(np.int64)

        def flat(key: str, dtype: Any) -> np.ndarray:
            return np.asarray([v for t in trees for v in t[key]], dtype=dtype)

        leaf = flat("leaf", bool)
        itself = np.arange(leaf.size, dtype=np.int64)
        offset = np.repeat(roots, [len(t["feature"]) for t in trees])
        left = np.where(leaf, itself, flat("left", np.int64) + offset)
        right = np.where(leaf, itself, flat("right", np.int64) + offset)
        steps = _steps(left, right, roots, leaf)
        deepest_first = np.argsort(-steps, kind="stable")
        return Trees(
            features,
            float(spec["baseline"]),
            roots[deepest_first],
            flat("feature", np.int64),
            flat("threshold", np.float64),
            left,
            right,
            flat("value", np.float64),
            flat("missing_left", bool),
            tuple(int((steps > s).sum()) for s in range(int(steps.max(initial=0)))),
            np.argsort(deepest_first),
        )
    raise WenyuanError(f"unknown answer model kind {spec['kind']!r}: refit with scripts/fit_answers.py")


@dataclass(frozen=True)
class AnswerModel:
    """``sentence``: P(a candidate sentence holds the answer); ``decline``: P(the chosen one does), thresholded."""

    sentence: Model
    decline: Model
    threshold: float
    second_ratio: float
    info: dict[str, Any]
    neighbour_ratio: float | None = None
    # A first quote that points back (quotes.points_back) brings the sentences it points to.
    join_back: bool = False


def load_answer_model(path: Path = SHIPPED_MODEL) -> AnswerModel:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        return AnswerModel(
            model_from_json(spec["sentence"]),
            model_from_json(spec["decline"]),
            float(spec["threshold"]),
            float(spec.get("second_ratio", 1.0)),
            {k: v for k, v in spec.items() if k not in ("sentence", "decline")},
            None if spec.get("neighbour_ratio") is None else float(spec["neighbour_ratio"]),
            bool(spec.get("join_back", False)),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WenyuanError(
            f"cannot read the answer model {path}: {exc}; reinstall wenyuan or refit it"
        ) from exc


def shipped() -> AnswerModel:
    return cached(SHIPPED_MODEL)


def cached(path: Path) -> AnswerModel:
    """Read once per file version: a server answers many questions with one model."""
    try:
        version = Path(path).stat().st_mtime_ns
    except OSError as exc:
        raise WenyuanError(
            f"cannot read the answer model {path}: {exc.strerror}; reinstall wenyuan or refit it"
        ) from exc
    return _load(str(path), version)


@lru_cache(maxsize=4)
def _load(path: str, version: int) -> AnswerModel:
    return load_answer_model(Path(path))
