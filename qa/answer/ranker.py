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
    """Binary gradient-boosted trees as flat node arrays (one row per tree, padded)."""

    features: tuple[str, ...]
    baseline: float
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    missing_left: np.ndarray
    depth: int

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        n, trees = x.shape[0], self.feature.shape[0]
        node = np.zeros((n, trees), dtype=np.int64)
        tree = np.arange(trees)[None, :]
        row = np.arange(n)[:, None]
        for _ in range(self.depth):
            leaf = self.leaf[tree, node]
            if leaf.all():
                break
            vals = x[row, self.feature[tree, node]]
            go_left = np.where(
                np.isnan(vals), self.missing_left[tree, node], vals <= self.threshold[tree, node]
            )
            node = np.where(leaf, node, np.where(go_left, self.left[tree, node], self.right[tree, node]))
        return sigmoid(self.baseline + self.value[tree, node].sum(axis=1))


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
        width = max(len(t["feature"]) for t in trees)

        def padded(key: str, dtype: Any, fill: Any) -> np.ndarray:
            return np.asarray([t[key] + [fill] * (width - len(t[key])) for t in trees], dtype=dtype)

        return Trees(
            features,
            float(spec["baseline"]),
            padded("feature", np.int64, 0),
            padded("threshold", np.float64, 0.0),
            padded("left", np.int64, 0),
            padded("right", np.int64, 0),
            padded("leaf", bool, True),
            padded("value", np.float64, 0.0),
            padded("missing_left", bool, True),
            int(spec["depth"]),
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


def load_answer_model(path: Path = SHIPPED_MODEL) -> AnswerModel:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        return AnswerModel(
            model_from_json(spec["sentence"]),
            model_from_json(spec["decline"]),
            float(spec["threshold"]),
            float(spec.get("second_ratio", 1.0)),
            {k: v for k, v in spec.items() if k not in ("sentence", "decline")},
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
