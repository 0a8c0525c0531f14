"""The learners behind ``scripts.fit_answers``: fitting the sentence and decline models, out of fold, and
writing them as the flat JSON trees ``qa.answer.ranker`` reads at serving time (no scikit-learn there).

Apart from the command so that each module stays one job: this one knows the libraries (scikit-learn,
LightGBM), the command knows the row files and the report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qa.answer.ranker import sigmoid
from qa.evaluation.answer_data import AnswerRows

SEED = 20261206


def fit_sentence(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    return clf.fit(x, y, sample_weight=weight)


def fit_ranker(x: np.ndarray, y: np.ndarray, group: np.ndarray, weight: np.ndarray | None = None) -> Any:
    """LightGBM's lambdarank: learns to order one question's candidates, which is the choice the chat makes."""
    import lightgbm

    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group[order])
    clf = lightgbm.LGBMRanker(
        objective="lambdarank",
        n_estimators=200,
        num_leaves=15,
        learning_rate=0.05,
        min_child_samples=40,
        lambdarank_truncation_level=3,
        random_state=SEED,
        n_jobs=2,
        verbose=-1,
    )
    clf.fit(
        x[order],
        y[order].astype(int),
        group=sizes[sizes > 0],
        sample_weight=None if weight is None else weight[order],
    )
    return clf


def lightgbm_json(clf: Any, features: tuple[str, ...]) -> dict[str, Any]:
    """LightGBM's nested trees as the flat node arrays ``qa.answer.ranker.Trees`` reads (scores through a sigmoid)."""
    trees, depth = [], 0
    for info in clf.booster_.dump_model()["tree_info"]:
        t: dict[str, list] = {
            k: [] for k in ("feature", "threshold", "left", "right", "leaf", "value", "missing_left")
        }

        def add(node: dict[str, Any], level: int) -> int:
            nonlocal depth
            depth = max(depth, level + 1)
            at = len(t["feature"])
            for k in t:
                t[k].append(0)
            if "leaf_value" in node:
                t["leaf"][at], t["value"][at], t["threshold"][at], t["missing_left"][at] = (
                    True,
                    float(node["leaf_value"]),
                    0.0,
                    True,
                )
                return at
            if node["decision_type"] != "<=" or node.get("missing_type") == "Zero":
                raise SystemExit(
                    f"unsupported LightGBM split {node['decision_type']} / {node.get('missing_type')}"
                )
            t["feature"][at], t["threshold"][at] = int(node["split_feature"]), float(node["threshold"])
            t["leaf"][at], t["missing_left"][at], t["value"][at] = False, bool(node["default_left"]), 0.0
            t["left"][at] = add(node["left_child"], level + 1)
            t["right"][at] = add(node["right_child"], level + 1)
            return at

        add(info["tree_structure"], 0)
        trees.append(t)
    return {"kind": "trees", "features": list(features), "baseline": 0.0, "depth": depth, "trees": trees}


def trees_json(clf: Any, features: tuple[str, ...]) -> dict[str, Any]:
    trees = []
    depth = 0
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        depth = max(depth, int(nodes["depth"].max()) + 1)
        trees.append(
            {
                "feature": nodes["feature_idx"].astype(int).tolist(),
                "threshold": [float(v) for v in nodes["num_threshold"]],
                "left": nodes["left"].astype(int).tolist(),
                "right": nodes["right"].astype(int).tolist(),
                "leaf": nodes["is_leaf"].astype(bool).tolist(),
                "value": [float(v) for v in nodes["value"]],
                "missing_left": nodes["missing_go_to_left"].astype(bool).tolist(),
            }
        )
    return {
        "kind": "trees",
        "features": list(features),
        "baseline": float(np.ravel(clf._baseline_prediction)[0]),
        "depth": depth,
        "trees": trees,
    }


def fit_decline(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Any:
    """Small trees: on DRCD they declined 0.71 of the removed-document questions at 1.6% of the answerable
    ones, where a logistic regression over the same features reached 0.50 at 0.9% or 0.75 at 2.2%."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=7,
        min_samples_leaf=40,
        early_stopping=False,
        random_state=SEED,
    )
    return clf.fit(x, y, sample_weight=weight)


def decline_out_of_fold(
    rows: AnswerRows, x: np.ndarray, y: np.ndarray, weight: np.ndarray, folds: int = 3
) -> np.ndarray:
    """Decline probabilities from models that never saw the question (either variant of it), for the threshold."""
    from sklearn.model_selection import GroupKFold

    ids: dict[tuple[str, str], int] = {}
    question = np.array([ids.setdefault((a["source"], a["id"]), len(ids)) for a in rows.asked])
    out = np.zeros(len(y))
    for train, held in GroupKFold(n_splits=folds).split(x, y, question):
        out[held] = fit_decline(x[train], y[train], weight[train]).predict_proba(x[held])[:, 1]
    return out


def out_of_fold(rows: AnswerRows, weight: np.ndarray, ranker: str = "trees", folds: int = 3) -> np.ndarray:
    """Sentence probabilities for the training rows from models that never saw their question."""
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(rows.label))
    for train, held in GroupKFold(n_splits=folds).split(rows.x, rows.label, rows.group):
        if ranker == "lambdarank":
            _, group = np.unique(rows.group[train], return_inverse=True)
            model = fit_ranker(rows.x[train], rows.label[train], group, weight[train])
            out[held] = sigmoid(model.predict(rows.x[held]))
        else:
            out[held] = fit_sentence(rows.x[train], rows.label[train], weight[train]).predict_proba(
                rows.x[held]
            )[:, 1]
    return out
