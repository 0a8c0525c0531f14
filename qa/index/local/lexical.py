"""BM25 over jieba tokens, with bm25s doing the scoring and the (npy + JSON) storage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TOKEN_IDS = "tokens.npz"
TOKEN_VOCAB = "token_vocab.json"


class LexicalIndex:
    def __init__(self, retriever) -> None:
        self._bm25 = retriever

    @classmethod
    def build(cls, tokenized: list[list[str]]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        # An empty chunk would otherwise break bm25s' vocabulary; the empty token scores nothing.
        retriever.index([t or [""] for t in tokenized], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder)))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """Score of every chunk; all zeros when no query word is in the vocabulary."""
        ids = self._bm25.get_tokens_ids([t for t in query_tokens if t])
        if not ids:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def top(self, query_tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the best ``k`` chunks with a positive score, best first."""
        scores = self.scores(query_tokens)
        k = min(k, len(scores))
        if k == 0:
            return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
        ids = np.argpartition(-scores, k - 1)[:k]
        ids = ids[np.argsort(-scores[ids], kind="stable")]
        ids = ids[scores[ids] > 0]
        return scores[ids], ids

    def vocabulary(self) -> list[str]:
        return [t for t in self._bm25.vocab_dict if t]

    def frequencies(self, tokens: list[str]) -> dict[str, int]:
        """Document frequency of each token in the vocabulary (read off the score matrix's row pointers)."""
        indptr = self._bm25.scores["indptr"]
        out = {}
        for t in tokens:
            tid = self._bm25.vocab_dict.get(t)
            if tid is not None:
                out[t] = int(indptr[tid + 1] - indptr[tid]) if tid + 1 < len(indptr) else 0
        return out


def save_tokens(folder: Path, rows: list[list[str]]) -> None:
    """Every chunk's tokens, so a later build re-segments only the documents that changed.

    Ids into a JSON vocabulary plus row offsets, in ``.npz``: compact, and no pickle.
    """
    vocab: dict[str, int] = {}
    ids = [vocab.setdefault(t, len(vocab)) for row in rows for t in row]
    offsets = np.cumsum([0, *map(len, rows)], dtype=np.int64)
    np.savez(folder / TOKEN_IDS, ids=np.asarray(ids, dtype=np.int32), offsets=offsets)
    (folder / TOKEN_VOCAB).write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")


def load_tokens(folder: Path) -> list[list[str]]:
    vocab = json.loads((folder / TOKEN_VOCAB).read_text(encoding="utf-8"))
    with np.load(folder / TOKEN_IDS, allow_pickle=False) as data:
        ids, offsets = data["ids"], data["offsets"]
    words = [vocab[i] for i in ids.tolist()]
    bounds = offsets.tolist()
    return [words[a:b] for a, b in zip(bounds, bounds[1:])]
