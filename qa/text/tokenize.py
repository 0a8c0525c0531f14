"""Chinese word segmentation for BM25 and answer-span overlap.

BM25 built on an English tokenizer silently scores every Chinese query 0
(a whole sentence becomes one "word"), so segmentation is jieba (plus a user
dictionary when one is configured); ``search`` mode also emits the sub-words
of long compounds (健康码 → 健康, 健康码), which lets partial phrasings match.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

# Function words and question words: frequent in questions, meaningless for matching.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 就 而 对 把 被 从 向 于 以 为 之 其 这 那 此 该 有 没有 吗 呢 吧 啊
    什么 多少 哪些 哪个 哪里 哪 怎么 怎样 如何 为什么 几 谁 是否 是不是 请问 一下 一个 个 些 哪家 何时 什么时候
    我 你 他 她 它 我们 你们 他们 the a an of to in on for is are was were be what which who how many much
    when where why did does do and or by with at as from that this it its""".split()
)

_TOKEN_OK = re.compile(r"[\w%.]+", re.UNICODE)


def default_cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/wenyuan/jieba`` (``~/.cache/...``); None when there is no home folder."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "wenyuan" / "jieba"


def _private_dir(path: Path | None) -> bool:
    """Create ``path`` 0700, or accept it if it exists, is ours and no one else can write or read it."""
    if path is None:
        return False
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def _initialize_privately(tokenizer: Any, cache_dir: Path | None) -> None:
    """Load jieba's dictionary cache (a marshal file) only from a folder no other user can write.

    jieba reads and writes ``/tmp/jieba.cache`` by default, which another local
    user could plant. When no private folder can be had (no home, wrong owner,
    open to others), a throw-away private temp folder is used: a slower start
    (~1 s to rebuild the dictionary), never a shared file.
    """
    if _private_dir(cache_dir):
        tokenizer.tmp_dir = str(cache_dir)
        tokenizer.initialize()
        return
    with tempfile.TemporaryDirectory(prefix="wenyuan-jieba-") as scratch:
        tokenizer.tmp_dir = scratch
        tokenizer.initialize()


class Segmenter:
    """One jieba tokenizer per segmenter, so no global dictionary state is shared."""

    def __init__(
        self, mode: str = "search", user_dict: Path | None = None, cache_dir: Path | None = None
    ) -> None:
        import jieba
        import jieba.posseg

        if mode not in ("search", "accurate"):
            raise ValueError(f"unknown jieba mode {mode!r}: use search or accurate")
        self.mode = mode
        self.user_dict = user_dict
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        with self._lock:
            _initialize_privately(self._jieba, cache_dir or default_cache_dir())
            if user_dict is not None:
                self._jieba.load_userdict(str(user_dict))
            # Built once: constructing it reads the tag table (~0.2 s).
            self._pos = jieba.posseg.POSTokenizer(self._jieba)

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(word, part-of-speech) pairs; ``ns``/``nt``/``nz`` mark place and organisation names."""
        with self._lock:
            return [(p.word, p.flag) for p in self._pos.cut(text)]

    def in_dictionary(self, word: str) -> bool:
        """Whether jieba's dictionary (or the user dictionary) holds ``word``.

        A word tagged ``ns`` that is not in it was made up by jieba's HMM from
        characters it did not know, most often a cut across two words (秋明州州内
        gives 明州州, 中国科大内共设 gives 内共): not a place the question names.
        """
        with self._lock:
            return self._jieba.FREQ.get(word, 0) > 0

    def tokens(self, text: str) -> list[str]:
        """Lower-cased content words; punctuation, whitespace and stopwords removed."""
        with self._lock:
            words = self._jieba.cut_for_search(text) if self.mode == "search" else self._jieba.cut(text)
            words = list(words)
        out = []
        for w in words:
            w = w.strip().lower()
            if w and w not in STOPWORDS and _TOKEN_OK.fullmatch(w):
                out.append(w)
        return out
