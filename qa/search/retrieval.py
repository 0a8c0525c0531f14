"""Search: a question in, ranked hits with per-component scores, answer spans and citations out."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

from embeddings.base import Embedder
from qa.errors import InputError, WenyuanError
from qa.index.recipe import user_dict_of
from qa.index.search_index import SearchIndex
from qa.models import Chunk, Citation, Hit, Scores, SearchResult
from qa.search.fusion import Fusion, make_fusion
from qa.search.highlight import Asked, answer_span
from qa.search.scope import places, scoped
from qa.settings import MODES, Settings
from qa.text.normalize import clean_text, embedding_form, has_content, normalize_question
from qa.text.romanize import linked_words, romanised_keys
from qa.text.tokenize import Segmenter


def check_query(question: str, k: int, mode: str, settings: Settings) -> str:
    """Validated question text, cleaned of characters nothing downstream can read; raises InputError with what to change.

    The one place a searched question is cleaned: every door (HTTP, MCP, CLI, Python, the chat) passes
    through here, and what comes after reads the cleaned string.
    """
    if not isinstance(question, str):
        raise InputError("the question must be text, e.g. 截至3月1日庆元县健康码申领率是多少")
    if len(question) > settings.max_question_chars:
        raise InputError(
            f"the question is {len(question)} characters long; the limit is {settings.max_question_chars}"
        )
    question = clean_text(question).strip()
    if not question:
        raise InputError("the question is empty: type a question, e.g. 截至3月1日庆元县健康码申领率是多少")
    if not has_content(question):
        raise InputError(
            "the question has no letter, digit or Chinese character: type a question, e.g. 平湖有多少家企业复工"
        )
    if not 1 <= k <= settings.k_max:
        raise InputError(f"k must be between 1 and {settings.k_max}, got {k}")
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return question


_ADMIN_SUFFIXES = "省市县区镇乡村"


def idf(tokens: list[str], df: dict[str, int], n: int) -> dict[str, float]:
    """BM25-style idf per token over the whole corpus (unknown tokens weigh like the rarest), for answer spans."""
    return {t: math.log(1.0 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in tokens}


class Retriever:
    """Holds the loaded index and models; safe to share between threads."""

    def __init__(
        self, index: SearchIndex, embedder: Embedder, settings: Settings, segmenter: Segmenter | None = None
    ) -> None:
        """``segmenter``: one already loaded (a server swapping builds), used when its options match."""
        if embedder.model_id != index.manifest.model_id:
            raise WenyuanError(
                f"the index was built with {index.manifest.model_id} but the model is {embedder.model_id}: "
                f"rebuild with `qa index --model {settings.model}` or search with --model {index.manifest.model}"
            )
        self.index = index
        self.embedder = embedder
        self.settings = settings
        options = index.manifest.retrieval_text
        mode, user_dict = options.get("jieba_mode", settings.jieba_mode), user_dict_of(options)
        same = segmenter is not None and (segmenter.mode, segmenter.user_dict) == (mode, user_dict)
        self.segmenter = segmenter if same else Segmenter(mode, user_dict)
        self.fusion: Fusion = make_fusion(settings.fusion, settings.rrf_k, settings.dense_weight)
        # The query embedding runs beside the BM25 search and the term lookup: the model releases the GIL,
        # and a shared store answers over the network. Two pools, so that a lookup never queues behind other
        # requests' embeddings.
        self._model = ThreadPoolExecutor(max_workers=8, thread_name_prefix="wenyuan-embed")
        self._lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wenyuan-lookup")

    def search(self, question: str, k: int | None = None, mode: str = "hybrid") -> SearchResult:
        return self.retrieve(question, k, mode)[0]

    def retrieve(
        self, question: str, k: int | None = None, mode: str = "hybrid"
    ) -> tuple[SearchResult, Asked]:
        """The result plus what the answer spans were judged against, which the chat's quotes and declines read too."""
        started = time.perf_counter()
        k = self.settings.k_default if k is None else k
        question = check_query(question, k, mode, self.settings)
        query = normalize_question(question)
        wanted = mode in ("hybrid", "dense")
        embedding = (
            self._model.submit(self.embedder.encode_queries, [embedding_form(question)]) if wanted else None
        )
        linked = linked_words(query, self.index.pinyin_words(romanised_keys(query)))
        tokens = self.segmenter.tokens(query)
        named = places(query, self.segmenter.tag)
        asked_words = sorted(set(tokens) | set(linked))
        places_as_words = [
            w for p in named for w in (p.lower(), p[:-1] if p[-1] in _ADMIN_SUFFIXES else "") if w
        ]
        frequencies = self._lookups.submit(
            self.index.frequencies, sorted(set(asked_words) | set(places_as_words))
        )
        depth = max(k, self.settings.candidates)
        bm25: dict[str, float] = {}
        dense: dict[str, float] = {}
        vector = None
        if mode in ("hybrid", "bm25"):
            bm25 = self.index.lexical(tokens, depth)
        if embedding is not None:
            vector = embedding.result()[0]
            dense = self.index.dense(vector, depth)
        fused = self.fusion(bm25, dense) if mode == "hybrid" else (bm25 or dense)
        chunks = self.index.chunks(fused)
        # A shared store updated in place may drop a candidate between the searches and this read.
        fused = {cid: score for cid, score in fused.items() if cid in chunks}
        ranked = sorted(fused, key=lambda cid: (-fused[cid], chunks[cid].doc, chunks[cid].start))
        names = sorted(set(named) | set(linked))
        if names:
            mentioning = self.index.mentioning({chunks[c].doc for c in ranked}, names)
            ranked = scoped(ranked, lambda cid: chunks[cid].doc, mentioning)
        ranked = ranked[:k]
        similar = self.index.sentence_similarities(ranked, vector) if vector is not None else {}
        df = frequencies.result()
        weights = idf(asked_words, df, self.index.manifest.chunks)
        # A place is in the corpus when it is a word of it, also without its suffix (嘉兴市 where papers say 嘉兴).
        # Only a place jieba's dictionary knows counts as one the corpus lacks: its HMM's guesses are mostly cuts.
        unknown = tuple(
            p
            for p in named
            if p.lower() not in df
            and not (p[-1] in _ADMIN_SUFFIXES and p[:-1] in df)
            and self.segmenter.in_dictionary(p)
        )
        if unknown:
            # jieba may cut a name inside a longer corpus word (乍都节公园): unknown means in no document's text either.
            everywhere = set(self.index.documents)
            unknown = tuple(p for p in unknown if not self.index.mentioning(everywhere, [p]))
        asked = Asked.of(query, weights, similar, tuple(linked), unknown)
        hits = [
            self._hit(rank, chunks[cid], fused[cid], bm25, dense, asked)
            for rank, cid in enumerate(ranked, start=1)
        ]
        return SearchResult(question, mode, (time.perf_counter() - started) * 1000, hits), asked

    def _hit(self, rank: int, chunk: Chunk, fused: float, bm25: dict, dense: dict, asked: Asked) -> Hit:
        cid = chunk.id
        meta = self.index.documents.get(chunk.doc, {}).get("metadata", {})
        return Hit(
            rank=rank,
            chunk_id=cid,
            text=chunk.text,
            highlight=answer_span(chunk.text, asked, cid),
            scores=Scores(fused=fused, bm25=bm25.get(cid), dense=dense.get(cid)),
            citation=Citation.of(chunk, meta),
        )
