"""The decline threshold of one corpus, read off the corpus itself: no labels, no questions needed.

A threshold fixed on one data set does not carry over to another: fitted on
DRCD, the decline model orders CMRC's answerable questions above those whose
document was removed almost perfectly (AUC 0.978), yet DRCD's threshold
declines 0.46 of CMRC's removed-document questions where 0.89 was within
reach; fitted on CMRC, it declines 2.7% of DRCD's answerable ones. What
"nothing here answers it" looks like differs per corpus, so each corpus is
asked: cloze questions made from its own sentences (one word replaced by
什么) are searched with their own document taken out, and the threshold is
the ``QUANTILE`` of the decline model's probability over them. Measured on
the row files (docs/answers.md): both public sets meet "answerable declined
≤ 2%, removed-document declined ≥ 0.70" held out in both directions.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.answer.abstain import answer_probability, evidence
from qa.answer.features import DEPTH
from qa.answer.quotes import rank
from qa.answer.ranker import AnswerModel
from qa.errors import WenyuanError
from qa.models import Chunk, Hit
from qa.search.retrieval import Retriever
from qa.text import sentences
from qa.text.normalize import written_traditional
from qa.text.tokenize import Segmenter

log = logging.getLogger("wenyuan.calibration")
QUESTIONS = 200
QUANTILE = 0.8  # chosen on the row files; 0.7-0.85 all met the targets on both public sets
MIN_QUESTIONS = 40  # fewer (a corpus of a few short pages): the fitted model's own threshold
SEED = 20261207
SEARCH_DEPTH = 15  # searched deep enough that the hits of another document fill the chat's DEPTH
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


@dataclass(frozen=True)
class Calibration:
    """The threshold this corpus's answers are declined below, and what it was read from."""

    threshold: float
    questions: int
    calibrated: bool

    def to_json(self) -> dict[str, float | int | bool]:
        return {
            "threshold": round(self.threshold, 6),
            "questions": self.questions,
            "calibrated": self.calibrated,
        }


def cloze_questions(
    chunks: Iterable[Chunk], segmenter: Segmenter, n: int = QUESTIONS, seed: int = SEED
) -> list[tuple[str, str]]:
    """(question, document) pairs: a sentence of a passage with one word asked for, in the passage's script."""
    pool = sorted(chunks, key=lambda c: c.id)
    rnd = random.Random(seed)
    rnd.shuffle(pool)
    out: list[tuple[str, str]] = []
    for chunk in pool:
        if len(out) == n:
            break
        spans = [(s, e) for s, e in sentences.spans(chunk.text) if 12 <= e - s <= 80]
        if not spans:
            continue
        s, e = rnd.choice(spans)
        sentence = chunk.text[s:e]
        words = [w for w, _ in segmenter.tag(sentence) if _WORD.fullmatch(w)]
        if not words:
            continue
        asked = "什麼" if written_traditional(sentence) else "什么"
        out.append(
            (sentence.replace(rnd.choice(words), asked, 1).rstrip("。！？；，,.!?;") + "？", chunk.doc)
        )
    return out


def without_document(hits: Sequence[Hit], doc: str) -> list[Hit]:
    """The top hits once ``doc`` is taken out: the passages below move up and are ranked anew."""
    others = [h for h in hits if h.citation.doc != doc][:DEPTH]
    return [replace(h, rank=n) for n, h in enumerate(others, start=1)]


def calibrate(retriever: Retriever, model: AnswerModel, n: int = QUESTIONS) -> Calibration:
    """The corpus's threshold: ``QUANTILE`` of the decline probability over its cloze questions, own document out."""
    probabilities = []
    for question, doc in cloze_questions(retriever.index.iter_chunks(), retriever.segmenter, n):
        result, asked = retriever.retrieve(question, SEARCH_DEPTH, "hybrid")
        hits = without_document(result.hits, doc)
        ranked = rank(hits, asked, model)
        if not len(ranked.probabilities):
            probabilities.append(0.0)
            continue
        ev = evidence(replace(result, hits=hits), asked, hits)
        probabilities.append(answer_probability(ev, asked, ranked.features, ranked.probabilities, model))
    if len(probabilities) < MIN_QUESTIONS:
        return Calibration(model.threshold, len(probabilities), False)
    return Calibration(float(np.quantile(probabilities, QUANTILE)), len(probabilities), True)


@dataclass(frozen=True)
class Kept:
    """A build's calibration beside the fitted model it was found for and that model with its threshold."""

    model: AnswerModel
    calibration: Calibration
    calibrated: AnswerModel

    @classmethod
    def of(cls, model: AnswerModel, calibration: Calibration) -> Kept:
        return cls(model, calibration, replace(model, threshold=calibration.threshold))


_cache: weakref.WeakKeyDictionary[Retriever, Kept] = weakref.WeakKeyDictionary()
_computing: weakref.WeakKeyDictionary[Retriever, threading.Lock] = weakref.WeakKeyDictionary()
_lock = threading.Lock()  # guards the two tables only: a build being calibrated never holds up another's chat


def calibrated(retriever: Retriever, model: AnswerModel) -> AnswerModel:
    """``model`` with this retriever's corpus threshold; computed once per loaded build (seconds), then kept."""
    if not retriever.settings.answer_calibration:
        return model
    with _lock:
        kept = _cache.get(retriever)
        computing = _computing.setdefault(retriever, threading.Lock())
    if kept is None or kept.model is not model:
        with computing:
            with _lock:
                kept = _cache.get(retriever)
            if kept is None or kept.model is not model:
                try:
                    kept = Kept.of(model, calibrate(retriever, model))
                except WenyuanError as exc:  # e.g. the embedding server is away: answer now, try again later
                    log.warning("the decline threshold could not be found (%s); the model's own is used", exc)
                    return model
                with _lock:
                    _cache[retriever] = kept
    return kept.calibrated


def carry_over(old: Retriever, new: Retriever, model: AnswerModel) -> None:
    """A newer build of a served index answers with the previous build's threshold until its own is found.

    Finding it takes seconds of searching; an upload should not wait for it,
    and one document more or less moves the threshold little. The new build's
    own threshold is computed on a thread of its own and replaces the old one.
    """
    if not new.settings.answer_calibration:
        return
    with _lock:
        kept = _cache.get(old)
        if kept is None or kept.model is not model or new in _cache:
            return
        _cache[new] = kept
    threading.Thread(target=_recalibrate, args=(new, model), name="wenyuan-calibration", daemon=True).start()


def _recalibrate(retriever: Retriever, model: AnswerModel) -> None:
    try:
        found = calibrate(retriever, model)
    except Exception as exc:  # the previous build's threshold stays; a server must not fail over it
        if not (isinstance(exc, RuntimeError) and "shutdown" in str(exc)):  # ending: nothing will ask again
            log.warning("kept the previous build's decline threshold: %s: %s", type(exc).__name__, exc)
        return
    with _lock:
        _cache[retriever] = Kept.of(model, found)


def calibration_of(retriever: Retriever) -> Calibration | None:
    """What ``calibrated`` found for this retriever, if it ran (reports show it)."""
    with _lock:
        kept = _cache.get(retriever)
    return kept.calibration if kept else None
