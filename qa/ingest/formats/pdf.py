"""PDF → rendition with page boxes (pdfminer.six), never indexing what cannot be read.

A page without a text layer (a scan: wenyuan does no OCR) and a page whose
text is garbled — ``(cid:…)`` glyphs with no Unicode, U+FFFD, private-use
characters — are left out with a warning naming the page; an encrypted or
broken file is refused with a reason. Running headers and footers (a line at
the top or bottom of the page that repeats on other pages, digits aside) and
page numbers are furniture and left out of the text.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTContainer, LTCurve, LTItem
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.psparser import PSException

from qa.ingest.formats.pdf_layout import Char, Column, Line, fragments, paragraphs, read_page, separator
from qa.ingest.formats.pdf_tables import Rule, find_tables
from qa.ingest.formats.rendition import Rendition
from qa.models import Segment, SourceMap

GARBLED_MAX_SHARE = 0.02
FURNITURE_BAND = 0.1
_PAGE_NUMBER = re.compile(
    r"^[-—–_·\s]*(?:第\s*)?\d{1,4}\s*(?:页|版)?(?:\s*[/／]\s*\d{1,4}|\s*共\s*\d{1,4}\s*页)?[-—–_·\s]*$|^(?:page|p\.)\s*\d{1,4}$",
    re.I,
)


@dataclass(frozen=True)
class PdfText:
    text: str
    source: SourceMap
    warnings: list[str]


def _garbled(text: str) -> bool:
    return "(cid:" in text or any(c == "\ufffd" or "\ue000" <= c <= "\uf8ff" for c in text)


def _walk(item: LTItem):
    if isinstance(item, (LTChar, LTCurve)):  # LTLine and LTRect are LTCurves
        yield item
    elif isinstance(item, LTContainer):
        for child in item:
            yield from _walk(child)


def _chars(layout, shown: tuple[float, float, float, float]) -> tuple[list[Char], int, list[Rule]]:
    """Every upright character a viewer shows, in points from the shown page's top-left, and how many others there were.

    pdfminer turns a page by its /Rotate, so text that reads upright on a
    turned page is read like any other; text that runs sideways or down the
    page is not upright. A character outside the crop box is not shown, so not read.
    """
    left, bottom, right, top = shown
    upright: list[Char] = []
    other = 0
    rules: list[Rule] = []
    for c in _walk(layout):
        if isinstance(c, LTCurve):
            rules.extend(_rules(c, shown))
            continue
        text = c.get_text()
        if not (left <= (c.x0 + c.x1) / 2 <= right and bottom <= (c.y0 + c.y1) / 2 <= top):
            continue
        if c.upright and text:
            upright.append(Char(text, c.x0 - left, c.x1 - left, top - c.y1, top - c.y0, c.size or 1.0))
        elif text.strip():
            other += 1
    return upright, other, rules


def _rules(item: LTCurve, shown: tuple[float, float, float, float]) -> list[Rule]:
    """The horizontal rules a line or rectangle draws (a rectangle: its top and bottom edges)."""
    left, _, _, top = shown
    if item.x1 - item.x0 < 20:
        return []
    edges = (item.y1,) if item.y1 - item.y0 < 1.5 else (item.y1, item.y0) if len(item.pts) <= 5 else ()
    return [Rule(item.x0 - left, item.x1 - left, top - y) for y in edges]


def _turn(rotate: int, mediabox: tuple[float, float, float, float]) -> tuple[float, ...]:
    """The matrix pdfminer's PDFPageInterpreter.process_page draws a page with: turned by /Rotate, from its corner."""
    x0, y0, x1, y1 = mediabox
    turned = {90: (0, -1, 1, 0, -y0, x1), 180: (-1, 0, 0, -1, x1, y1), 270: (0, 1, -1, 0, y1, -x0)}
    return turned.get(rotate, (1, 0, 0, 1, -x0, -y0))


def _shown(page: PDFPage) -> tuple[float, float, float, float]:
    """What a viewer shows of the page (its crop box within its media box) where pdfminer puts the characters:
    left, bottom, right, top. pdf.js draws that part, so boxes counted from its corner land on the characters."""
    media = tuple(float(v) for v in page.mediabox)
    x0, y0, x1, y1 = (float(v) for v in page.cropbox)
    crop = (
        max(min(x0, x1), min(media[0], media[2])),
        max(min(y0, y1), min(media[1], media[3])),
        min(max(x0, x1), max(media[0], media[2])),
        min(max(y0, y1), max(media[1], media[3])),
    )
    if crop[0] >= crop[2] or crop[1] >= crop[3]:  # no overlap: viewers show the media box
        crop = media
    a, b, c, d, e, f = _turn(page.rotate, media)
    corners = [(a * x + c * y + e, b * x + d * y + f) for x in (crop[0], crop[2]) for y in (crop[1], crop[3])]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    return min(xs), min(ys), max(xs), max(ys)


def _pages(raw: bytes):
    """(width, height, characters, others, rules) of each page as shown, from pdfminer without layout analysis (the slow part)."""
    document = PDFDocument(PDFParser(io.BytesIO(raw)))
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=None)
    interpreter = PDFPageInterpreter(manager, device)
    for page in PDFPage.create_pages(document):
        shown = _shown(page)
        interpreter.process_page(page)
        yield shown[2] - shown[0], shown[3] - shown[1], *_chars(device.get_result(), shown)


def _furniture_key(line: Line) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text))


def _furniture(pages: dict[int, list[Column]], heights: dict[int, float]) -> set[int]:
    """ids of lines that are running headers, footers or page numbers."""
    edge: list[tuple[Line, str]] = []
    for number, columns in pages.items():
        for column in columns:
            for line in column.lines:
                h = heights[number]
                if line.top < h * FURNITURE_BAND or line.bottom > h * (1 - FURNITURE_BAND):
                    edge.append((line, _furniture_key(line)))
    pages_of = Counter(key for _, key in {(line.page, key) for line, key in edge})
    return {
        id(line)
        for line, key in edge
        if _PAGE_NUMBER.match(line.text.strip()) or (len(pages) > 1 and pages_of[key] >= 2)
    }


def _unreadable(number: int, chars: list[Char], sideways: int) -> str | None:
    """Why a page is left out: no text layer, text that does not run left to right, or too many garbled characters."""
    if not "".join(c.text for c in chars).strip():
        if sideways:
            return (
                f"page {number}: its text runs sideways or down the page (a page turned by its /Rotate, "
                "or vertical writing); not read"
            )
        return f"page {number}: no text layer (a scanned page?); not read, wenyuan does no OCR"
    bad = sum(1 for c in chars if _garbled(c.text))
    if bad > GARBLED_MAX_SHARE * len(chars):
        return f"page {number}: garbled text ({bad} of {len(chars)} characters have no Unicode); not read"
    return None


def _open_failure(exc: BaseException) -> str:
    if isinstance(exc, (PDFPasswordIncorrect, PDFEncryptionError)):
        return "an encrypted PDF (password-protected); save an unprotected copy"
    return f"not a readable PDF ({type(exc).__name__}); the file may be broken"


def extract_pdf(raw: bytes) -> PdfText:
    """The rendition of a PDF's readable pages, its page/box map and a warning per page left out.

    Raises ValueError (a reason fit for a user) when no page can be read.
    """
    warnings: list[str] = []
    pages: dict[int, list[Column]] = {}
    sizes: list[tuple[float, float]] = []
    char_sizes: list[float] = []
    try:
        for number, (width, height, chars, sideways, rules) in enumerate(_pages(raw), start=1):
            sizes.append((width, height))
            warning = _unreadable(number, chars, sideways)
            if warning:
                warnings.append(warning)
                continue
            chars = [c for c in chars if not _garbled(c.text)]
            char_sizes.extend(c.size for c in chars)
            tables, rest = find_tables(number, fragments(number, chars), rules)
            pages[number] = read_page(rest, tables)
    except (PDFSyntaxError, PSException, PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise ValueError(_open_failure(exc)) from None
    except (ValueError, KeyError, TypeError, AttributeError, AssertionError, IndexError) as exc:
        raise ValueError(f"not a readable PDF ({type(exc).__name__}); the file may be broken") from None
    if not pages:
        raise ValueError(
            "no page has readable text (" + "; ".join(warnings) + ")" if warnings else "a PDF without pages"
        )
    return PdfText(*_render(pages, sizes, statistics.median(char_sizes)), warnings)


def _render(
    pages: dict[int, list[Column]], sizes: list[tuple[float, float]], body_size: float
) -> tuple[str, SourceMap]:
    furniture = _furniture(pages, {n: sizes[n - 1][1] for n in pages})
    flow = [
        Column(kept, column.left, column.right)
        for number in sorted(pages)
        for column in pages[number]
        if (kept := [ln for ln in column.lines if id(ln) not in furniture])
    ]
    out = Rendition("pdf")
    for paragraph in paragraphs(flow, body_size):
        if paragraph.table:  # a row a line, as a Word table's
            out.block(
                [
                    [(row.text, Segment(0, 0, page=row.page, top=row.top, bottom=row.bottom, xs=row.xs()))]
                    for row in paragraph.lines
                ]
            )
            continue
        pieces: list[tuple[str, Segment]] = []
        for n, line in enumerate(paragraph.lines):
            text, xs = line.text, line.xs()
            following = paragraph.lines[n + 1].text if n + 1 < len(paragraph.lines) else ""
            if following and separator(text, following):
                text, xs = text + " ", (*xs, xs[-1])
            pieces.append((text, Segment(0, 0, page=line.page, top=line.top, bottom=line.bottom, xs=xs)))
        out.block([pieces])
    return out.text, out.source_map(tuple(sizes))
