"""Reading a PDF-extracted newspaper page as articles.

The text arrives as blank-line separated blocks in reading order, with the
page furniture (mastheads, bylines, ads, weather boxes) interleaved and
paragraphs cut wherever a column or page ended. Everything that decides what
a block *is* lives here, so the chunker only has to do span bookkeeping.
Readers ask about the furniture too (the issue number, a school's phone
number, tomorrow's weather), so mastheads, ads and weather boxes become small
articles of their own titled 报头, 广告, 天气预报; bylines are still dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from itertools import groupby

from qa.text import sentences
from qa.text.sentences import PARAGRAPH_CLOSERS, PARAGRAPH_END, ends_mid_sentence

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")

_MASTHEAD = re.compile(r"^(?:.{0,12}(?:日报|晚报|时报|公报|周报)|.{1,6}版|第\s*\d+\s*期.*|GAZETTE.*)$")
_WEATHER = re.compile(r"友情提醒|天气预报|最[高低]气温")
_AD = re.compile(r"招生热线|咨询热线|报名热线|服务热线|订购热线|^地址[:：]")
_AD_NEIGHBOUR_MAX = 30
_BYLINE = re.compile(r"^(?:[□■▲◆●◎]|(?:本报)?(?:特约|见习|实习)?(?:记者|通讯员|摄影|实习生)\s*\S)")
_BYLINE_MAX = 40
_LABEL = re.compile(r"^(?:阅读提示|核心提示|编者按|导读|提要)[:：]?$")
_DATELINE = re.compile(r"^(?:本报\S{0,6}讯|[(（]上接)")
_LEAD_MARKER = re.compile(r"^[(（]上接第[一二三四五六七八九十\d]{1,3}版[)）]\s*")
_TAIL_MARKER = re.compile(r"\s*[(（]下转第[一二三四五六七八九十\d]{1,3}版[)）]$")
_FRAGMENT_HEAD = re.compile(r"^[^\s,，、。；;][,，、。；;]")
_KICKER_END = re.compile(r"(?:强调|指出|表示|要求|提出|时说|上说)$")
HEADLINE_MAX = 50
WIDE_GAP = 2
PHOTO_TITLE = "图片说明"
UNTITLED = "（无标题）"
MASTHEAD_TITLE = "报头"
AD_TITLE = "广告"
WEATHER_TITLE = "天气预报"
FURNITURE_TITLES = (MASTHEAD_TITLE, AD_TITLE, WEATHER_TITLE)
FURNITURE_MIN_CJK = 6


class Kind(Enum):
    NOISE = "noise"
    BYLINE = "byline"
    HEADING = "heading"
    LABEL = "label"
    BODY = "body"


@dataclass(frozen=True)
class Block:
    """A run of non-blank lines; ``start``/``end`` exclude surrounding whitespace."""

    start: int
    end: int
    text: str
    gap_before: int


@dataclass(frozen=True)
class Part:
    """A kept block of an article.

    ``role`` is "body" or "heading" (an in-article heading or lead-in label that
    belongs with the paragraph after it); ``continues`` marks a body block cut
    mid-sentence by a column/page break.
    """

    start: int
    end: int
    role: str
    continues: bool


@dataclass(frozen=True)
class Article:
    """An article under its headline, or one piece of page furniture under FURNITURE_TITLES."""

    title: str
    parts: tuple[Part, ...]


def split_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    pos = 0
    gap = 0
    first: int | None = None
    last_end = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            if first is None:
                first = pos
            last_end = pos + len(line)
        else:
            if first is not None:
                blocks.append(_block(text, first, last_end, gap))
                first, gap = None, 0
            gap += 1
        pos += len(line)
    if first is not None:
        blocks.append(_block(text, first, last_end, gap))
    return blocks


def _block(text: str, start: int, end: int, gap: int) -> Block:
    raw = text[start:end]
    s = start + (len(raw) - len(raw.lstrip()))
    e = start + len(raw.rstrip())
    return Block(s, e, text[s:e], gap)


def is_headline_shaped(text: str) -> bool:
    """Headlines are one short line with no sentence punctuation anywhere."""
    return (
        "\n" not in text
        and 2 <= len(text) <= HEADLINE_MAX
        and not sentences.has_end_mark(text)
        and len(re.findall(r"[,，]", text)) <= 1
        and text.rstrip(PARAGRAPH_CLOSERS)[-1:] not in tuple(PARAGRAPH_END + ",，、:：")
        and bool(_CJK.search(text))
    )


def _is_byline(text: str) -> bool:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return all(
        len(ln) <= _BYLINE_MAX and _BYLINE.match(ln) and not re.search(r"[。，,:：]", ln) for ln in lines
    )


def classify(block: Block) -> Kind:
    t = block.text
    if not _CJK.search(t) or _MASTHEAD.match(t) or _WEATHER.search(t) or _AD.search(t):
        return Kind.NOISE
    if _is_byline(t):
        return Kind.BYLINE
    if _LABEL.match(t):
        return Kind.LABEL
    if is_headline_shaped(t):
        return Kind.HEADING
    return Kind.BODY


def _kinds(blocks: list[Block]) -> list[Kind]:
    kinds = [classify(b) for b in blocks]
    for i, b in enumerate(blocks):
        if _AD.search(b.text):
            for step in (-1, 1):
                j = i + step
                while (
                    0 <= j < len(blocks)
                    and kinds[j] is not Kind.BYLINE
                    and (len(blocks[j].text) < _AD_NEIGHBOUR_MAX and not _WEATHER.search(blocks[j].text))
                ):
                    kinds[j] = Kind.NOISE
                    j += step
    for i in range(len(blocks) - 1):
        nxt = blocks[i + 1]
        if kinds[i] is Kind.HEADING and nxt.gap_before < WIDE_GAP and _FRAGMENT_HEAD.match(nxt.text):
            kinds[i] = Kind.BODY
        if (
            kinds[i] is Kind.BODY
            and _continues(blocks[i].text)
            and kinds[i + 1] in (Kind.HEADING, Kind.LABEL)
            and nxt.gap_before < WIDE_GAP
        ):
            kinds[i + 1] = Kind.BODY
    return kinds


def _continues(text: str) -> bool:
    return not _TAIL_MARKER.search(text) and ends_mid_sentence(text)


def _body_part(block: Block) -> Part:
    """Continuation markers are page furniture, so the span starts/ends past them."""
    start, end = block.start, block.end
    lead = _LEAD_MARKER.match(block.text)
    if lead and lead.end() < len(block.text):
        start += lead.end()
    tail = _TAIL_MARKER.search(block.text)
    if tail and tail.start() > (lead.end() if lead else 0):
        end = block.start + tail.start()
    return Part(start, end, "body", _continues(block.text))


def pick_title(group: list[str]) -> str:
    """Chinese front pages stack 引题/主题/副题; the 主题 is what a reader cites.

    A kicker ends in a speech verb ("…时强调") or sits above two more lines.
    """
    if len(group) >= 3 or (len(group) == 2 and _KICKER_END.search(group[0])):
        return group[1]
    return group[0]


class _Builder:
    def __init__(self) -> None:
        self.articles: list[Article] = []
        self.title: str | None = None
        self.parts: list[Part] = []
        self.has_body = False
        self.closed = False

    def open(self, title: str) -> None:
        self.flush()
        self.title, self.parts, self.has_body, self.closed = title, [], False, False

    def flush(self) -> None:
        if self.title is not None and any(p.role == "body" for p in self.parts):
            self.articles.append(Article(self.title, tuple(self.parts)))
        self.title = None


def furniture_title(block: Block) -> str | None:
    """What a reader would call this furniture block; ``None`` for text with no Chinese.

    Only ads pull short neighbours into the noise, so any other noise block with
    Chinese text is a line of an ad.
    """
    t = block.text
    if not _CJK.search(t):
        return None
    if _WEATHER.search(t):
        return WEATHER_TITLE
    if _AD.search(t):
        return AD_TITLE
    if _MASTHEAD.match(t):
        return MASTHEAD_TITLE
    return AD_TITLE


def furniture(blocks: list[Block], kinds: list[Kind]) -> list[Article]:
    """Adjacent noise blocks of one kind become one article titled by that kind.

    Lines of Latin letters (``JIAXING DAILY``, ``A1``) are left out: they
    repeat the Chinese name beside them, and as short Latin passages they drew
    English and off-topic questions (measured, see README). Lines of digits
    (the year ``2020``) join the furniture they sit next to. A piece of furniture
    with under FURNITURE_MIN_CJK Chinese characters (an edition label such as
    ``平湖版``, a lone page number) says nothing a reader would ask, so it is dropped.
    """
    articles: list[Article] = []
    i = 0
    while i < len(blocks):
        if kinds[i] is not Kind.NOISE:
            i += 1
            continue
        j = i
        while j < len(blocks) and kinds[j] is Kind.NOISE:
            j += 1
        titled = _titled_run(blocks[i:j])
        for title, group in groupby(titled, key=lambda pair: pair[0]):
            run = [blk for _, blk in group]
            if len(_CJK.findall("".join(blk.text for blk in run))) >= FURNITURE_MIN_CJK:
                articles.append(Article(title, tuple(Part(blk.start, blk.end, "body", False) for blk in run)))
        i = j
    return articles


def _titled_run(run: list[Block]) -> list[tuple[str, Block]]:
    """A digits-only line (a year) belongs to the furniture beside it; Latin lines get no title."""
    titles = [furniture_title(blk) for blk in run]
    out: list[tuple[str, Block]] = []
    for k, blk in enumerate(run):
        title = titles[k]
        if title is None and not _LATIN.search(blk.text):
            title = next((t for t in reversed(titles[:k]) if t), None) or next(
                (t for t in titles[k + 1 :] if t), None
            )
        if title is not None:
            out.append((title, blk))
    return out


def segment(text: str) -> list[Article]:
    """Group the page's blocks into articles in reading order, page furniture included.

    Bylines are dropped; furniture never joins or splits an article, it sits
    beside them as articles of its own.
    """
    blocks = split_blocks(text)
    kinds = _kinds(blocks)
    articles = _articles(blocks, kinds) + furniture(blocks, kinds)
    return sorted(articles, key=lambda a: a.parts[0].start)


def _articles(blocks: list[Block], kinds: list[Kind]) -> list[Article]:
    b = _Builder()
    after_noise = True
    i = 0
    while i < len(blocks):
        block, kind = blocks[i], kinds[i]
        wide = block.gap_before >= WIDE_GAP
        if kind is Kind.NOISE:
            after_noise = True
            i += 1
            continue
        if kind is Kind.BYLINE:
            nxt_body = i + 1 < len(blocks) and kinds[i + 1] is Kind.BODY
            if b.has_body and not (nxt_body and blocks[i + 1].gap_before < WIDE_GAP):
                b.closed = True
        elif kind is Kind.HEADING:
            j = i
            while j < len(blocks) and kinds[j] is Kind.HEADING:
                j += 1
            nxt = kinds[j] if j < len(blocks) else None
            starts = (
                j - i >= 2
                or b.title is None
                or b.closed
                or after_noise
                or wide
                or nxt is Kind.BYLINE
                or (nxt is Kind.BODY and bool(_DATELINE.match(blocks[j].text)))
            )
            if starts:
                b.open(pick_title([blk.text for blk in blocks[i:j]]))
                i = j
                after_noise = False
                continue
            b.parts.append(Part(block.start, block.end, "heading", False))
        elif kind is Kind.LABEL:
            if b.title is None:
                b.open(UNTITLED)
            b.parts.append(Part(block.start, block.end, "heading", False))
        else:
            if b.title is None or (b.has_body and (b.closed or wide)):
                b.open(PHOTO_TITLE if wide else UNTITLED)
            b.parts.append(_body_part(block))
            b.has_body = True
        after_noise = False
        i += 1
    b.flush()
    return b.articles
