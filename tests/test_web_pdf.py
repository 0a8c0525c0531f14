"""A PDF citation opens on its page in the chat page: pdf.js draws it, the quoted lines are highlighted where they were drawn.

A two-page PDF made with reportlab (tests/made_documents.py) is indexed with
the bundled model and served by the real app; Debian Chromium asks a question
answered by the second sentence of a paragraph on page 2, clicks the citation
and the test compares the canvas and the highlights with the places it drew
the strings at; once more with that page stored landscape and turned by
/Rotate 90, which pdf.js shows upright as the boxes count, and with a crop
box, which pdf.js shows alone as the boxes count from its corner. pdf.js is what scripts/fetch_pdfjs.sh unpacks (the server
serves it at /pdfjs/, under the page's CSP); without it the same click shows
the extracted text, which the last test checks.
"""

from __future__ import annotations

import re
import shutil

import httpx
import made_documents as made
import pytest

from tests.conftest import SEEDS, SMALL, live_server

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

from tests.test_web_page import ANSWER_TIMEOUT_MS, OUTPUT, ask, browser, checked_page  # noqa: E402,F401

QUESTION = "海鲜市场每天几点开始交易？"
PX = 1.5  # CSS pixels a highlight edge may be off the drawn string's edge (the page is ~1 px per point)

# Dark pixels inside a rectangle of the canvas (page points), and on the whole canvas.
DARK_SHARE = """(canvas, [x0, top, x1, bottom, width]) => {
  const s = canvas.width / width;
  const ctx = canvas.getContext("2d");
  const share = (x, y, w, h) => {
    const data = ctx.getImageData(Math.round(x), Math.round(y), Math.max(1, Math.round(w)), Math.max(1, Math.round(h))).data;
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] < 384) dark += 1;
    return dark / (data.length / 4);
  };
  return { inside: share(x0 * s, top * s, (x1 - x0) * s, (bottom - top) * s), page: share(0, 0, canvas.width, canvas.height) };
}"""


def _pdfjs_dir():
    from qa.api.pdfjs import installed
    from qa.settings import Settings

    folder = Settings().pdfjs_dir
    return folder if installed(folder) else None


def _indexed(tmp_path_factory, embedder, name: str):
    from qa.index.local.writer import build_index
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("pdf-corpus")
    drawn = LAYOUTS[name][0](corpus / name)
    shutil.copy(SEEDS / SMALL, corpus / SMALL)
    settings = Settings(index_dir=tmp_path_factory.mktemp("pdf-index"), corpus_dir=corpus)
    build_index(corpus, settings, embedder, progress=False)
    return settings, drawn, name


# The same page 2: upright; stored landscape with /Rotate 90 (the shown page's places are the same); and with a
# crop box, which viewers show alone (places count from its corner). Each with the crop box, if any.
LAYOUTS = {
    "port.pdf": (made.answer_on_page_two, None),
    "turned.pdf": (made.turned_pages, None),
    "cropped.pdf": (lambda path: made.answer_on_page_two(path, cropBox=made.CROP), made.CROP),
}


@pytest.fixture(scope="module")
def pdf_index(tmp_path_factory, embedder):
    return _indexed(tmp_path_factory, embedder, "port.pdf")


@pytest.fixture(scope="module")
def turned_index(tmp_path_factory, embedder):
    return _indexed(tmp_path_factory, embedder, "turned.pdf")


@pytest.fixture(scope="module")
def cropped_index(tmp_path_factory, embedder):
    return _indexed(tmp_path_factory, embedder, "cropped.pdf")


def _shown_size(name: str) -> tuple[float, float]:
    crop = LAYOUTS[name][1]
    return made.PAGE if crop is None else (crop[2] - crop[0], crop[3] - crop[1])


def _quoted_lines(drawn: made.Drawn, quote: str, name: str = "port.pdf") -> list[tuple[float, float, float]]:
    """(x0, x1, baseline) of each drawn body line of page 2 holding part of ``quote``, on the page as it is shown."""
    crop = LAYOUTS[name][1]
    dx, dy = (0.0, 0.0) if crop is None else (crop[0], made.PAGE[1] - crop[3])
    lines = [
        (p, t, x - dx, baseline - dy, size)
        for p, t, x, baseline, size in drawn.lines
        if p == 2 and size == made.SIZE
    ]
    text = "".join(d[1] for d in lines)
    at = text.index(quote)
    out, offset = [], 0
    for _, line, x, baseline, size in lines:
        a, b = max(at, offset), min(at + len(quote), offset + len(line))
        if a < b:
            out.append((x + (a - offset) * size, x + (b - offset) * size, baseline))
        offset += len(line)
    return out


@pytest.mark.parametrize("indexed", ["pdf_index", "turned_index", "cropped_index"])
def test_pdf_citation_opens_its_page_with_the_quoted_lines_highlighted(browser, indexed, request) -> None:
    if _pdfjs_dir() is None:
        pytest.skip("pdf.js is not installed: run scripts/fetch_pdfjs.sh (scripts/setup.sh does)")
    settings, drawn, name = request.getfixturevalue(indexed)
    with live_server(settings) as url, checked_page(browser, url) as page:
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None
        )
        reply = ask(page, QUESTION)
        assert made.RIGHT[1] in reply.inner_text(), "the market sentence is quoted"
        reply.get_by_test_id("citation-marker").first.click()

        sheet = page.get_by_test_id("pdf-page")
        expect(sheet).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
        expect(sheet).to_have_attribute("data-page", "2")
        canvas = page.get_by_test_id("pdf-canvas")
        # The first quote as the API gives it: the market sentence, and the one before it when the model joins it.
        answer = httpx.post(
            f"{url}/api/chat", json={"messages": [{"role": "user", "content": QUESTION}]}
        ).json()
        quote = re.sub(r"\[1\]$", "", answer["answer"].split("\n")[0])
        assert made.RIGHT[1] in quote and quote in made.RIGHT[0] + made.RIGHT[1], quote
        expected = _quoted_lines(drawn, quote, name)
        width, height = _shown_size(name)
        marks = page.get_by_test_id("pdf-highlight")
        expect(marks).to_have_count(len(expected))
        assert len(expected) >= 2, "the quote ends inside the paragraph's third line, across line ends"
        assert page.get_by_test_id("pdf-passage").count() >= 3, "the passage's lines, lighter"
        page.screenshot(path=str(OUTPUT / f"pdf-citation-{name.removesuffix('.pdf')}.png"))

        page_box = canvas.bounding_box()
        scale = page_box["width"] / width
        assert page_box["height"] == pytest.approx(height * scale, abs=1.5)
        boxes = sorted((marks.nth(i).bounding_box() for i in range(marks.count())), key=lambda b: b["y"])
        for (x0, x1, baseline), box in zip(expected, boxes):
            assert box["x"] == pytest.approx(page_box["x"] + x0 * scale, abs=PX), (box, x0)
            assert box["x"] + box["width"] == pytest.approx(page_box["x"] + x1 * scale, abs=PX), (box, x1)
            # The glyphs stand on the baseline: the mark covers their band and not the next line.
            top, bottom = box["y"] - page_box["y"], box["y"] + box["height"] - page_box["y"]
            assert top <= (baseline - made.SIZE * 0.6) * scale and bottom >= baseline * scale - PX, (
                box,
                baseline,
            )
            assert box["height"] <= made.LEADING * scale, "within its own line"
            dark = canvas.evaluate(DARK_SHARE, [x0, baseline - made.SIZE * 0.8, x1, baseline, width])
            assert dark["inside"] > 0.05, f"the canvas has the quoted characters under the highlight: {dark}"
        first_line = _quoted_lines(drawn, made.RIGHT[0], name)[0]
        dark = canvas.evaluate(
            DARK_SHARE, [first_line[0], first_line[2] - made.SIZE * 0.8, first_line[1], first_line[2], width]
        )
        assert 0.001 < dark["page"] < 0.5, f"the page is drawn, not blank: {dark}"
        assert dark["inside"] > 0.05, "the paragraph's first line is drawn too"

        link = page.get_by_test_id("pdf-source-link")
        assert link.get_attribute("href") == f"/api/documents/{name}/source"
        assert made.RIGHT[1] in page.get_by_test_id("context-highlight").inner_text(), (
            "the passage as text below the page"
        )
        assert not violations, violations
        assert "第 2 页" in page.get_by_test_id("context-panel").inner_text()

        worker = httpx.get(f"{url}/pdfjs/build/pdf.worker.min.mjs")
        assert worker.status_code == 200 and worker.headers["content-type"] == "text/javascript"
        assert "'wasm-unsafe-eval'" in worker.headers["content-security-policy"], (
            "pdf.js's worker may compile its decoders"
        )
        assert "wasm-unsafe-eval" not in httpx.get(f"{url}/").headers["content-security-policy"], (
            "the page may not"
        )
        assert httpx.get(f"{url}/pdfjs/cmaps/UniGB-UCS2-H.bcmap").status_code == 200, (
            "the CJK cmaps are served"
        )


def test_without_pdfjs_the_pdf_citation_shows_the_extracted_text(browser, pdf_index, tmp_path) -> None:
    settings, _, _ = pdf_index
    bare = settings.model_copy(update={"pdfjs_dir": tmp_path / "no-pdfjs"})
    with live_server(bare) as url, checked_page(browser, url) as page:
        reply = ask(page, QUESTION)
        reply.get_by_test_id("citation-marker").first.click()
        expect(page.get_by_test_id("pdf-unavailable")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(page.get_by_test_id("context-highlight")).to_contain_text(made.RIGHT[1][:10])
        assert page.get_by_test_id("pdf-page").count() == 0


def test_the_chat_citation_boxes_the_quoted_sentence_not_the_passage(pdf_index) -> None:
    settings, drawn, _ = pdf_index
    with live_server(settings) as url:
        chat = httpx.post(
            f"{url}/api/chat", json={"messages": [{"role": "user", "content": QUESTION}]}, timeout=60
        ).json()
    assert chat["answer"].startswith(made.RIGHT[1]), chat["answer"]
    cited = chat["citations"][0]
    hit = next(
        h
        for h in chat["hits"]
        if h["citation"]["start"] == cited["start"] and h["citation"]["doc"] == "port.pdf"
    )
    assert cited["page_start"] == cited["page_end"] == 2
    assert len(cited["boxes"]) == 2 < len(hit["citation"]["boxes"]), (
        "the quote's two lines, not the passage's"
    )
    expected = _quoted_lines(drawn, made.RIGHT[1])
    for box, (x0, x1, _) in zip(cited["boxes"], expected):
        assert box["x0"] == pytest.approx(x0, abs=0.01) and box["x1"] == pytest.approx(x1, abs=0.01)
    assert sum(b["x1"] - b["x0"] for b in cited["boxes"]) == pytest.approx(
        len(made.RIGHT[1]) * made.SIZE, abs=0.1
    )
