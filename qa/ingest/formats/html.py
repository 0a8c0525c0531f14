"""HTML → rendition of the main content with source lines (lxml).

A saved web page is mostly navigation, banners, footers and scripts; indexing
them would make every page of a site answer "关于我们". The main content is
``<main>`` (or ``role="main"``), else the one ``<article>``, else the body
with the boilerplate elements removed; headings, paragraphs, list items and
table rows are its blocks, each remembering the source line it starts on.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from qa.ingest.formats.rendition import Piece, Rendition, at_line
from qa.models import SourceMap

_BOILERPLATE = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "form",
    "iframe",
    "svg",
    "pre",
    "code",
    "button",
)
_PAGE_FURNITURE = ("header", "footer")
_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
_BLOCKS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "li",
    "dt",
    "dd",
    "figcaption",
    "caption",
    "blockquote",
    "tr",
}
_CONTAINERS = {"div", "section", "article", "main", "td", "th", "body"}
_SPACE = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")


def _tidy(text: str) -> str:
    """Source whitespace collapsed; a space between two Chinese characters was only line wrapping."""
    return _CJK_GAP.sub("", _SPACE.sub(" ", text))


def _drop_boilerplate(root: etree._Element) -> None:
    doomed = list(root.iter(*_BOILERPLATE))
    doomed += [
        el
        for el in root.iter(*_PAGE_FURNITURE)
        if not any(a.tag in ("article", "main") for a in el.iterancestors())
    ]
    doomed += [el for el in root.iter() if isinstance(el.tag, str) and el.get("role") in _ROLES]
    doomed += [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and (el.get("hidden") is not None or el.get("aria-hidden") == "true")
    ]
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            tail = el.tail
            parent.remove(el)
            if tail and tail.strip():
                previous = el.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail


def _main(root: etree._Element) -> etree._Element:
    mains = root.xpath("//main | //*[@role='main']")
    if mains:
        return mains[0]
    articles = root.xpath("//article")
    if len(articles) == 1:
        return articles[0]
    body = root.find("body")
    return body if body is not None else root


def _has_block_inside(el: etree._Element) -> bool:
    return any(
        isinstance(d.tag, str) and (d.tag in _BLOCKS or d.tag in _CONTAINERS) for d in el.iterdescendants()
    )


def _pieces(el: etree._Element) -> list[Piece]:
    """The element's text, one piece per source line it spans."""
    first = el.sourceline or 1
    lines = [(_tidy(raw).strip(), at_line(first + n)) for n, raw in enumerate(el.text_content().split("\n"))]
    return _join_pieces([(text, seg) for text, seg in lines if text])


def _join_pieces(pieces: list[Piece]) -> list[Piece]:
    """Wrapped lines joined: no space where both sides are Chinese, one space otherwise."""
    out: list[Piece] = []
    for text, seg in pieces:
        if out and _tidy(out[-1][0][-1:] + " " + text[:1]) != out[-1][0][-1:] + text[:1]:
            text = " " + text
        out.append((text, seg))
    return out


def _row(tr: etree._Element) -> list[Piece]:
    cells = [_tidy(c.text_content()).strip() for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
    return [(" | ".join(c for c in cells if c), at_line(tr.sourceline or 1))]


def _decoded(raw: bytes) -> str | bytes:
    """UTF-8 as text (lxml would guess Latin-1 for a page without a charset); other bytes go by their ``<meta charset>``."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw


def extract_html(raw: bytes) -> tuple[str, SourceMap]:
    """The rendition of an HTML file's main content and its map to source lines."""
    root = lxml.html.document_fromstring(_decoded(raw))
    _drop_boilerplate(root)
    out = Rendition("html")
    table: list[list[Piece]] = []
    table_of: etree._Element | None = None
    for el in _main(root).iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "tr":
            owner = next(el.iterancestors("table"), None)
            if table and owner is not table_of:
                out.block(table)
                table = []
            table_of = owner
            table.append(_row(el))
            continue
        if any(a.tag == "tr" for a in el.iterancestors()):
            continue
        if (el.tag in _BLOCKS or el.tag in _CONTAINERS) and not _has_block_inside(el):
            if table:
                out.block(table)
                table, table_of = [], None
            out.block([_pieces(el)])
    out.block(table)
    return out.text, out.source_map()
