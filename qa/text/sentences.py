"""Where a sentence (or clause) ends: every cut the package makes, in one place.

All cuts share one set of end marks (``END_MARKS``). They differ in what they keep with the
mark, and each difference has a reason, given beside it: the chunker's cut decides chunk ids,
the answer span's decides which sentence is quoted (and which sentences get vectors), the
streamed reply's keeps citation markers with their sentence, and the layout's decides which
lines join. Changing any of them changes chunks, answers or recorded figures, so each is kept
as it was measured rather than merged into one.
"""

from __future__ import annotations

import re

END_MARKS = "。！？；!?;"
QUOTES = "”’」』"
BRACKETS = "）)"

# The answer span: a run of end marks with at most one closing quote, or a line break, ends a sentence,
# except inside a book title, brackets or a wiki's script markup that close on the same line
# (《卡拉OK.LIVE！‧台北‧我》, （包括…及Hey! Say! JUMP）, -{zh-cn:宽叶毛毡苔;zh-tw:锦地罗}-): cut there,
# the quote held half a name (six of CMRC's 1 002 gold answers were cut so; docs/answers.md).
_SPAN = re.compile(rf"[^{END_MARKS}\n]+(?:[{END_MARKS}]+[{QUOTES}\"]?|\n|$)")
_ENCLOSED = re.compile(
    r"(?P<title>《[^《》\n]{1,100}》|〈[^〈〉\n]{1,100}〉)|（[^（）\n]{1,100}）|\([^()\n]{1,100}\)|-\{[^{}\n]{1,200}\}-"
)
SPLIT_VERSION = 2  # recorded in an index's manifest: sentence vectors follow these cuts
# The chunker cuts after one end mark and every closing quote or bracket that follows it.
_CHUNK_END = re.compile(rf"[{END_MARKS}][{QUOTES}{BRACKETS}]*")
_CHUNK_CLAUSE_END = re.compile(rf"[，,、：:][{QUOTES}{BRACKETS}]*")
# A streamed reply's sentence also keeps the citation markers ([1][2]) written after it.
_CITED_END = re.compile(rf"[{END_MARKS}]+[{QUOTES}\"]?(?:[ \t]*[\[［【]\d{{1,3}}[\]］】])*|\n+")
# A question's clauses: the words around its question word stop at any pause, commas included.
_MARK = re.compile(rf"[{END_MARKS}]")
_QUESTION_BREAK = re.compile(rf"[{END_MARKS}，,：:]")
# The synthetic corpora's cut (full-width marks only, line breaks kept inside): the bench's
# recorded figures were measured on corpora grown from these pieces.
_SYNTHETIC = re.compile(r"[^。！？；]+[。！？；]?")

# Layout (line and block joining): a block ending in one of these, or in a closing quote or bracket,
# ends its paragraph; an ellipsis ends one too, a colon does not start a headline.
PARAGRAPH_END = END_MARKS + "…"
PARAGRAPH_CLOSERS = "”’」』)）】"
# A PDF line ending in these does not run on into the next line (colons and closers included,
# since a PDF's lines are cut by width, not by the writer).
PDF_LINE_END = PARAGRAPH_END + "：:" + QUOTES + BRACKETS


def spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence the answer span chooses from, surrounding whitespace excluded."""
    out = []
    # A title is a name, also when its mark is its last character (《CDTV×Sacas！》节目); brackets may close a
    # sentence of their own (（详见附件。）), so a cut there stays unless the brackets go on past the mark.
    inside = [(m.start(), m.end() - (m.group("title") is None)) for m in _ENCLOSED.finditer(text)]
    pieces: list[tuple[int, int]] = []
    for m in _SPAN.finditer(text):
        if pieces and any(a < m.start() < b for a, b in inside):
            pieces[-1] = (pieces[-1][0], m.end())
        else:
            pieces.append((m.start(), m.end()))
    for start, end in pieces:
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            out.append((start, end))
    return out or [(0, len(text))]


def chunk_ends(text: str) -> list[int]:
    """Where the chunker may cut a long paragraph: after a sentence and its closing quotes or brackets."""
    return [m.end() for m in _CHUNK_END.finditer(text)]


def clause_ends(text: str) -> list[int]:
    """Where the chunker may cut a sentence too long for one chunk."""
    return [m.end() for m in _CHUNK_CLAUSE_END.finditer(text)]


def cited_end(text: str) -> re.Match[str] | None:
    """The first sentence end of a streamed reply, with the markers right after it, or a line break."""
    return _CITED_END.search(text)


def first_clause(text: str) -> str:
    return _QUESTION_BREAK.split(text, maxsplit=1)[0]


def last_clause(text: str) -> str:
    return _QUESTION_BREAK.split(text)[-1]


def has_end_mark(text: str) -> bool:
    return _MARK.search(text) is not None


def synthetic_pieces(text: str) -> list[str]:
    return _SYNTHETIC.findall(text)


def ends_mid_sentence(text: str) -> bool:
    """A closing quote or bracket counts as an end: quotes rarely straddle a break."""
    return bool(text) and text[-1] not in PARAGRAPH_END + PARAGRAPH_CLOSERS + ":："
