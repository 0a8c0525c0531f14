"""Question normalisation: what a reader types should match what the papers print.

Full-width letters/digits become half-width (``６４％`` → ``64%``) and
traditional characters simplified (``庆元縣健康碼`` → ``庆元县健康码``). Only
questions are rewritten; the stored corpus text never is, so offsets hold.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# NFKC would also fold CJK punctuation that the corpus prints full-width; fold only ASCII range.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_question(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_FULLWIDTH)
    return " ".join(_converter().convert(text).split())
