"""PDF, Word, HTML and Markdown read from real files made in the test: order, furniture, boxes, lines."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import made_documents as made
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from qa.ingest.chunking import chunk_document
from qa.ingest.corpus import load_corpus
from qa.ingest.formats import extract
from qa.ingest.formats.pdf import extract_pdf
from qa.ingest.formats.rendition import origin
from qa.models import Chunk

PAGE_NUMBER = re.compile(r"—\s*\d+\s*—")


def _chunks(folder: Path, name: str) -> list[Chunk]:
    doc = next(d for d in load_corpus(folder).documents if d.name == name)
    return chunk_document(doc)


def _covers(box: dict, drawn: tuple[int, str, float, float, float], chars: str) -> bool:
    """The box holds the drawn characters ``chars`` (one em each): its page, its baseline, their x extent."""
    page, text, x, baseline, size = drawn
    left = x + text.index(chars) * size
    return (
        box["page"] == page
        and box["top"] <= baseline <= box["bottom"] + 0.01
        and box["x0"] <= left + 0.01
        and box["x1"] >= left + len(chars) * size - 0.01
        and (box["page_width"], box["page_height"]) == made.PAGE
    )


def test_one_column_reads_in_order_with_boxes(tmp_path: Path) -> None:
    drawn = made.one_column(tmp_path / "a.pdf")
    result = extract_pdf((tmp_path / "a.pdf").read_bytes())
    assert result.warnings == []
    blocks = result.text.strip().split("\n\n")
    assert blocks == ["平湖城东口袋公园建成开放", *made.LEFT]
    start = result.text.index("银杏")
    found = origin(result.source, start, start + 2)
    assert found["format"] == "pdf" and found["page_start"] == found["page_end"] == 1
    (box,) = found["boxes"]
    line = next(d for d in drawn.lines if "银杏" in d[1])
    assert _covers(box, line, "银杏")
    assert box["x1"] - box["x0"] == pytest.approx(2 * made.SIZE, abs=0.01)


def test_two_columns_read_column_by_column_without_the_page_number(tmp_path: Path) -> None:
    drawn = made.two_columns(tmp_path / "page.pdf")
    text = extract_pdf((tmp_path / "page.pdf").read_bytes()).text
    blocks = text.strip().split("\n\n")
    assert blocks == ["平湖日报", "城东公园", *made.LEFT, "渔港码头", *made.RIGHT]
    assert not PAGE_NUMBER.search(text)
    chunks = _chunks(tmp_path, "page.pdf")
    assert chunks and all(not PAGE_NUMBER.search(c.text) for c in chunks)
    for chunk in chunks:
        boxes = chunk.origin["boxes"]
        assert chunk.origin["page_start"] == 1 and boxes
        for line in (d for d in drawn.lines if d[1] in chunk.text and d[4] == made.SIZE):
            assert any(_covers(b, line, line[1]) for b in boxes), (line, boxes)


def test_column_lines_of_uneven_length_stay_in_their_column(tmp_path: Path) -> None:
    """Half-width characters end a column's lines a few points apart, some inside the gutter's sparse edge: still the
    column's own lines, read in order and joined into one paragraph; the centred page number is furniture."""
    drawn = made.two_columns_half_width(tmp_path / "page.pdf")
    ends = {round(x + stringWidth(text, made.FONT, size)) for _, text, x, _, size in drawn.lines if x == 72}
    assert len(ends) > 2, f"the test needs lines of uneven length: {ends}"
    result = extract_pdf((tmp_path / "page.pdf").read_bytes())
    assert result.text.strip().split("\n\n") == made.HALF_WIDTH


def test_a_ruled_table_reads_row_by_row_with_boxes(tmp_path: Path) -> None:
    """Columns found from the layout would read the table's columns one after another; its rules make it rows."""
    drawn = made.ruled_table(tmp_path / "table.pdf")
    result = extract_pdf((tmp_path / "table.pdf").read_bytes())
    blocks = result.text.strip().split("\n\n")
    rows = "\n".join(" | ".join(row) for row in made.TABLE)
    assert blocks == ["各镇街道复工情况", made.TABLE_BEFORE, rows, made.TABLE_AFTER]
    start = result.text.index("四十五家")
    found = origin(result.source, start, start + 4)
    (box,) = found["boxes"]
    assert _covers(box, next(d for d in drawn.lines if d[1] == "四十五家"), "四十五家")


def test_paragraph_over_a_page_break_is_one_paragraph_and_running_lines_are_furniture(tmp_path: Path) -> None:
    drawn = made.crossing_pages(tmp_path / "report.pdf")
    result = extract_pdf((tmp_path / "report.pdf").read_bytes())
    assert made.CROSSING in result.text.split("\n\n")
    assert made.RUNNING_HEADER not in result.text
    assert result.warnings == ["page 3: no text layer (a scanned page?); not read, wenyuan does no OCR"]
    chunks = _chunks(tmp_path, "report.pdf")
    crossing = [c for c in chunks if "突破三百万标准箱" in c.text]
    assert len(crossing) == 1
    spans = {(c.origin["page_start"], c.origin["page_end"]) for c in chunks}
    assert (1, 2) in spans or {1, 2} <= {p for span in spans for p in span}
    assert all(made.RUNNING_HEADER not in c.text and not re.fullmatch(r"\d+", c.text) for c in chunks)
    # The quoted span's boxes hold its characters wherever it was printed, on either page.
    before, after = (
        made.CROSSING[made.CROSSING_SPLIT - 5 : made.CROSSING_SPLIT],
        made.CROSSING[made.CROSSING_SPLIT : made.CROSSING_SPLIT + 5],
    )
    start = result.text.index(before + after)
    boxes = origin(result.source, start, start + 10)["boxes"]
    assert [b["page"] for b in boxes] == [1, 2]
    first = next(d for d in drawn.lines if d[1].endswith(before))
    last = next(d for d in drawn.lines if d[1].startswith(after))
    assert _covers(boxes[0], first, before) and _covers(boxes[1], last, after)


def test_a_turned_page_reads_upright_and_a_sideways_one_is_skipped_with_its_reason(tmp_path: Path) -> None:
    """/Rotate 90 with the text drawn turned to match is read as shown, boxes on the shown (portrait) page; text that
    the turn leaves running down the page is not read, and the warning says why (not "a scanned page")."""
    drawn = made.turned_pages(tmp_path / "turned.pdf")
    result = extract_pdf((tmp_path / "turned.pdf").read_bytes())
    blocks = result.text.strip().split("\n\n")
    assert blocks == [
        "平湖城东口袋公园建成开放",
        made.LEFT[0],
        "乍浦渔港码头改造完工",
        made.RIGHT[0] + made.RIGHT[1],
    ]
    assert made.SIDEWAYS not in result.text
    assert result.warnings == [
        "page 3: its text runs sideways or down the page (a page turned by its /Rotate, or vertical writing); not read"
    ]
    assert result.source.pages == (made.PAGE, made.PAGE, made.PAGE), "page sizes as shown"
    start = result.text.index(made.RIGHT[1])
    boxes = origin(result.source, start, start + len(made.RIGHT[1]))["boxes"]
    lines = [d for d in drawn.lines if d[0] == 2 and d[4] == made.SIZE]
    assert len(boxes) == 2 and all(b["page"] == 2 for b in boxes)
    assert _covers(boxes[0], lines[1], lines[1][1][lines[1][1].index("码头旁边") :])
    assert _covers(boxes[1], lines[2], lines[2][1])


def test_a_cropped_page_is_measured_from_the_corner_a_viewer_shows(tmp_path: Path) -> None:
    """Boxes count from the crop box's top-left, as pdf.js draws the page; what lies outside the crop box is not read."""
    drawn = made.cropped(tmp_path / "cropped.pdf")
    result = extract_pdf((tmp_path / "cropped.pdf").read_bytes())
    left, bottom, right, top = made.CROP
    assert result.source.pages == ((right - left, top - bottom),)
    assert made.OUTSIDE_CROP not in result.text and result.text.strip().split("\n\n")[1:] == made.LEFT
    start = result.text.index("银杏")
    (box,) = origin(result.source, start, start + 2)["boxes"]
    _, text, x, baseline, size = next(d for d in drawn.lines if "银杏" in d[1])
    shown = (1, text, x - left, baseline - (made.PAGE[1] - top), size)
    assert _covers({**box, "page_width": made.PAGE[0], "page_height": made.PAGE[1]}, shown, "银杏")
    assert box["x1"] - box["x0"] == pytest.approx(2 * made.SIZE, abs=0.01)


def test_unreadable_pdfs_are_skipped_with_a_reason_and_the_run_goes_on(tmp_path: Path) -> None:
    made.encrypted(tmp_path / "locked.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntruncated")
    made.one_column(tmp_path / "good.pdf")
    blank = made.Pdf(tmp_path / "scan.pdf")
    blank.next_page()
    blank.save()
    made.garbled(tmp_path / "cid.pdf")
    loaded = load_corpus(tmp_path)
    assert [d.name for d in loaded.documents] == ["good.pdf"]
    reasons = dict(loaded.skipped)
    assert "encrypted" in reasons["locked.pdf"]
    assert "not a readable PDF" in reasons["broken.pdf"]
    assert "no text layer" in reasons["scan.pdf"] and "OCR" in reasons["scan.pdf"]
    assert "garbled text (10 of 10 characters have no Unicode)" in reasons["cid.pdf"]


def test_garbled_characters_are_never_rendered() -> None:
    from qa.ingest.formats.pdf import _garbled

    assert _garbled("(cid:123)") and _garbled("\ufffd") and _garbled("\ue001")
    assert not _garbled("平湖") and not _garbled("A")


def test_word_paragraphs_headings_and_tables_in_order(tmp_path: Path) -> None:
    made.word(tmp_path / "port.docx")
    doc = load_corpus(tmp_path).documents[0]
    assert doc.format == "docx"
    assert doc.text.strip().split("\n\n") == [
        "乍浦渔港码头改造完工",
        made.RIGHT[0],
        "海鲜市场",
        made.RIGHT[1],
        "品种 | 价格\n梭子蟹 | 每斤八十元",
        made.LEFT[1],
    ]
    chunks = chunk_document(doc)
    assert {c.title for c in chunks} >= {"乍浦渔港码头改造完工"}
    assert all(c.origin == {"format": "docx"} for c in chunks)


def test_html_main_content_without_boilerplate_and_with_source_lines(tmp_path: Path) -> None:
    source = made.html(tmp_path / "news.html")
    doc = load_corpus(tmp_path).documents[0]
    assert doc.text.strip().split("\n\n") == ["平湖城东口袋公园建成开放", *made.LEFT]
    for boilerplate in ("首页", "新闻中心", "热门推荐", "版权所有", "统计代码"):
        assert boilerplate not in doc.text
    lines = source.splitlines()
    (chunk,) = [c for c in chunk_document(doc) if "银杏" in c.text]
    start, end = chunk.origin["source_line_start"], chunk.origin["source_line_end"]
    assert chunk.origin["format"] == "html"
    assert made.LEFT[1][:20] in lines[start - 1] or made.LEFT[0] in lines[start - 1]
    assert made.LEFT[1][20:] in lines[end - 1]


def test_markdown_leaves_front_matter_and_code_out(tmp_path: Path) -> None:
    source = made.markdown(tmp_path / "port.md")
    doc = load_corpus(tmp_path).documents[0]
    assert doc.text.strip().split("\n\n") == [
        "乍浦渔港码头改造完工",
        made.RIGHT[0],
        made.RIGHT[1],
        "品种 | 价格\n梭子蟹 | 每斤八十元",
    ]
    assert "tags" not in doc.text and "代码块" not in doc.text
    lines = source.splitlines()
    start = doc.text.index("带鱼")
    found = origin(doc.source, start, start + 2)
    assert found["format"] == "markdown" and "带鱼" in lines[found["source_line_start"] - 1]


def test_broken_word_and_html_files_are_skipped_not_crashed(tmp_path: Path) -> None:
    (tmp_path / "bad.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "empty.html").write_text("<html><body><nav>只有导航</nav></body></html>", encoding="utf-8")
    (tmp_path / "ok.md").write_text("# 标题\n\n正文一段。\n", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    reasons = dict(loaded.skipped)
    assert "not a readable Word file" in reasons["bad.docx"]
    assert "no text" in reasons["empty.html"]
    with pytest.raises(ValueError):
        extract("x.pdf", b"", lambda raw: ("", ""))


def test_txt_has_no_origin_and_chunks_as_before(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent.parent / "seeds" / "003_54b69cf64c17b6a2.txt", tmp_path / "a.txt")
    doc = load_corpus(tmp_path).documents[0]
    assert doc.source is None and doc.format == "txt"
    assert all(c.origin is None for c in chunk_document(doc))


def test_extraction_speed_figure(tmp_path: Path) -> None:
    """The benchmark figure of the issue: pages per second extracting 100 generated two-column pages."""
    made.many_pages(tmp_path / "big.pdf", 100)
    raw = (tmp_path / "big.pdf").read_bytes()
    started = time.perf_counter()
    result = extract_pdf(raw)
    seconds = time.perf_counter() - started
    assert result.source.pages and len(result.source.pages) == 100
    print(f"\nextracted 100 generated pages in {seconds:.2f} s: {100 / seconds:.1f} pages/s")


def test_a_hit_boxes_its_answer_span_line_by_line(tmp_path: Path) -> None:
    """The answer span's own lines, clipped to its characters, not the whole passage's; citations show no line data."""
    from qa.models import Citation, Hit, Scores

    drawn = made.crossing_pages(tmp_path / "report.pdf")
    (chunk,) = [c for c in _chunks(tmp_path, "report.pdf") if "临港大道" in c.text]
    quoted = made.CROSSING[made.CROSSING_SPLIT - 5 : made.CROSSING_SPLIT + 5]
    a = chunk.text.index(quoted)
    hit = Hit(1, chunk.id, chunk.text, (a, a + len(quoted)), Scores(0.0), Citation.of(chunk)).to_json()
    assert not any(key.startswith("_") for key in hit["citation"])
    boxes = hit["highlight_boxes"]
    assert [b["page"] for b in boxes] == [1, 2] and len(hit["citation"]["boxes"]) > len(boxes)
    first = next(d for d in drawn.lines if d[1].endswith(quoted[:5]))
    last = next(d for d in drawn.lines if d[1].startswith(quoted[5:]))
    assert _covers(boxes[0], first, quoted[:5]) and _covers(boxes[1], last, quoted[5:])
    assert boxes[0]["x1"] - boxes[0]["x0"] == pytest.approx(5 * made.SIZE, abs=0.01)
    assert boxes[1]["x1"] - boxes[1]["x0"] == pytest.approx(5 * made.SIZE, abs=0.01)
