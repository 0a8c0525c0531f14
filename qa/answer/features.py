"""What the answer ranker sees of each candidate sentence: numbers measured against the question.

Every sentence of the top passages is a candidate. Its features are cheap
(substring tests and the precomputed sentence similarity) and mostly
relative: a sentence's overlap minus the best overlap among the question's
candidates, so one model serves short news questions and long encyclopedia
ones alike. Text is compared in the matching form (one script), so a
Traditional corpus and a Simplified question meet.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from qa.models import Hit
from qa.search.highlight import TUNED, Asked, coverage
from qa.text import sentences
from qa.text.answer_type import ANSWER_TYPES, counted_unit, states
from qa.text.normalize import matching_form

DEPTH = 5

_BASE = (
    "rank",
    "fused_rel",
    "dense",
    "bm25_rel",
    "title_cov",
    "same_doc_as_top",
    "sim",
    "sim_gap",
    "sim_chunk_gap",
    "cov",
    "cov_gap",
    "focus",
    "bigram",
    "bigram_gap",
    "unigram",
    "novel",
    "typed",
    "position",
    "first",
    "last",
    "sentences",
    "length",
    "prev_bigram",
    "next_bigram",
    "prev_cov",
    "next_cov",
    "rule",
    "lcs",
    "lcs_gap",
    "wh_left",
    "wh_right",
    "wh_gap",
    "sim_rank",
    "rule_gap",
    "highlight",
)
# A count in the measure word the question asks for (597家 for 多少家), or one of its family (16个 for 多少家).
FEATURES: tuple[str, ...] = (
    _BASE
    + tuple(f"kind_{k}" for k in (*ANSWER_TYPES, "none"))
    + ("unit_exact", "unit_family")
    + ("untitled", "untitled_gap", "untitled_bigram", "untitled_bigram_gap")
)


@dataclass(frozen=True)
class Candidate:
    """One sentence of one hit; ``start``/``end`` index the hit's original text."""

    hit: Hit
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


# The question word, as MRC questions put it (哪一年, 为什么, 是由谁): what surrounds it, the answer sentence echoes.
QUESTION_WORD = re.compile(
    r"为什么|为何|什么时候|什么|多少|哪一?[个些年天位家种国里儿座部条项]?|谁|几[个年月天次种位]?|怎么样?|怎样|如何|何[时地人处种]|是否"
)
_ALNUM = re.compile(r"[^\W_]")  # str.isalnum, one character at a time, at C speed
_CLAUSE = re.compile(r"[，,。？?！!；;：:、]")
_REACH = 8


def wh_context(question: str) -> tuple[str, str]:
    """The clause text just before and just after the last question word (each at most ``_REACH`` characters)."""
    m = None
    for m in QUESTION_WORD.finditer(question):
        pass
    if m is None:
        return "", ""
    left = _CLAUSE.split(question[: m.start()])[-1][-_REACH:]
    right = _CLAUSE.split(question[m.end() :], maxsplit=1)[0][:_REACH]
    return left.strip(), right.strip()


def _echo(part: str, text: str, from_end: bool) -> float:
    """Share of ``part`` found in ``text`` as one piece, grown from the question word outwards."""
    n = 0
    for size in range(1, len(part) + 1):
        piece = part[-size:] if from_end else part[:size]
        if piece not in text:
            break
        n = size
    return n / len(part) if part else 0.0


def char_bigrams(text: str) -> set[str]:
    """Adjacent letter/digit/CJK character pairs, lower-cased (punctuation and spaces skipped)."""
    chars = [c for c in text.lower() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])}


def _longest_common(question: str, text: str) -> float:
    """The longest run of the question's characters found in ``text``, as a share of the question."""
    if not question:
        return 0.0
    best = 0
    for i in range(len(question)):
        j = i + best + 1
        while j <= len(question) and question[i:j] in text:
            best = j - i
            j += 1
    return best / len(question)


def _share(needles: set[str], text: str) -> float:
    return sum(map(text.__contains__, needles)) / len(needles) if needles else 0.0


def candidates(hits: list[Hit], asked: Asked, depth: int = DEPTH) -> tuple[list[Candidate], np.ndarray]:
    """Every sentence of the top ``depth`` hits and its feature row (columns as ``FEATURES``)."""
    top = hits[:depth]
    if not top:
        return [], np.zeros((0, len(FEATURES)), dtype=np.float32)
    question = asked.question.lower()
    q_bigrams = char_bigrams(question)
    q_chars = {c for c in question if c.isalnum()}
    q_plain = "".join(c for c in question if c.isalnum())
    left, right = wh_context(question)
    top_fused = max(h.scores.fused for h in top) or 1.0
    top_bm25 = max((h.scores.bm25 or 0.0) for h in top) or 1.0
    kind = asked.kind or "none"
    units = counted_unit(question, exact=True), counted_unit(question)
    rows: list[list[float]] = []
    out: list[Candidate] = []
    texts: list[str] = []
    titles: list[str] = []
    for hit in top:
        text = matching_form(hit.text).lower()
        title = matching_form(hit.citation.title).lower()
        spans, sims = asked.similar.get(hit.chunk_id, (None, None))
        if spans is None:
            spans = sentences.spans(text)
            sims = [0.0] * len(spans)
        parts = [text[s:e] for s, e in spans]
        bigram = [_share(q_bigrams, p) for p in parts]
        cov = [coverage(p, asked.weights) for p in parts]
        title_cov = coverage(matching_form(hit.citation.title), asked.weights)
        best_sim_here = max(sims) if sims else 0.0
        n = len(spans)
        for i, ((s, e), part) in enumerate(zip(spans, parts)):
            novel_chars = _ALNUM.findall(part)
            rows.append(
                [
                    float(hit.rank),
                    hit.scores.fused / top_fused,
                    hit.scores.dense if hit.scores.dense is not None else 0.0,
                    (hit.scores.bm25 or 0.0) / top_bm25,
                    title_cov,
                    float(hit.citation.doc == top[0].citation.doc),
                    sims[i],
                    0.0,
                    sims[i] - best_sim_here,
                    cov[i],
                    0.0,
                    coverage(part, asked.focus),
                    bigram[i],
                    0.0,
                    _share(q_chars, part),
                    (len(novel_chars) - sum(map(q_chars.__contains__, novel_chars))) / len(novel_chars)
                    if novel_chars
                    else 0.0,
                    float(states(part, asked.kind, asked.question)),
                    float(i),
                    float(i == 0),
                    float(i == n - 1),
                    float(n),
                    math.log1p(e - s),
                    bigram[i - 1] if i > 0 else 0.0,
                    bigram[i + 1] if i + 1 < n else 0.0,
                    cov[i - 1] if i > 0 else 0.0,
                    cov[i + 1] if i + 1 < n else 0.0,
                    0.0,
                    _longest_common(q_plain, part),
                    0.0,
                    _echo(left, part, True),
                    _echo(right, part, False),
                    0.0,
                    0.0,
                    0.0,
                    float((s, e) == hit.highlight),
                    *(float(kind == k) for k in (*ANSWER_TYPES, "none")),
                    *(
                        float(u is not None and any(m.group(0) not in question for m in u.finditer(part)))
                        for u in units
                    ),
                    *([0.0] * 4),
                ]
            )
            out.append(Candidate(hit, s, e))
            texts.append(part)
            titles.append(title)
    x = np.asarray(rows, dtype=np.float32)
    col = FEATURES.index
    x[:, col("sim_gap")] = x[:, col("sim")] - x[:, col("sim")].max()
    x[:, col("cov_gap")] = x[:, col("cov")] - x[:, col("cov")].max()
    x[:, col("bigram_gap")] = x[:, col("bigram")] - x[:, col("bigram")].max()
    x[:, col("lcs_gap")] = x[:, col("lcs")] - x[:, col("lcs")].max()
    wh = x[:, col("wh_left")] + x[:, col("wh_right")]
    x[:, col("wh_gap")] = wh - wh.max()
    x[:, col("sim_rank")] = np.argsort(np.argsort(-x[:, col("sim")], kind="stable"), kind="stable")
    # Today's hand-set score (qa.search.highlight), kept as one feature among the others.
    anchor = (
        x[:, col("cov")]
        + TUNED.focus * x[:, col("focus")]
        + TUNED.similarity * np.maximum(0.0, x[:, col("sim")] - TUNED.similarity_floor)
    )
    x[:, col("rule")] = anchor * np.where(x[:, col("typed")] > 0, 1.0, TUNED.untyped)
    x[:, col("rule_gap")] = x[:, col("rule")] - x[:, col("rule")].max()
    x[:, col("untitled")] = untitled_coverage(texts, titles, q_chars)
    x[:, col("untitled_bigram")] = untitled_coverage(texts, titles, q_bigrams)
    for name in ("untitled", "untitled_bigram"):
        x[:, col(f"{name}_gap")] = x[:, col(name)] - x[:, col(name)].max()
    return out, x


def untitled_coverage(texts: list[str], titles: list[str], needles: set[str]) -> np.ndarray:
    """Each text's share of the question's characters (or bigrams) that its own page title lacks,
    each weighted by how few of ``texts`` hold it.

    An encyclopedia question names its page (天门冬的根有什么特点), and every sentence of that page is
    about the page's subject: what the title does not say (根) is what is asked, and among one
    question's candidates a rare needle tells them apart where a common one (的, 有) does not. Without
    it a definition of the subject outranked the sentence on its roots (first choice on CMRC, fitted
    on DRCD: 0.739 without, 0.802 with; docs/answers.md).
    """
    out = np.zeros(len(texts), dtype=np.float32)
    if not texts or not needles:
        return out
    ordered = sorted(needles)
    held = np.array([list(map(t.__contains__, ordered)) for t in texts], dtype=bool)
    df = held.sum(axis=0)
    weight = np.where(df > 0, np.log1p((len(texts) - df + 0.5) / (df + 0.5)), 0.0)
    for title in set(titles):
        rows = [i for i, t in enumerate(titles) if t == title]
        own = set(title)
        kept = weight * np.array([not set(w) <= own for w in ordered])
        if kept.sum() > 0:
            out[rows] = held[rows] @ kept / kept.sum()
    return out
