"""PDF, Word, HTML and Markdown through the real ``qa index`` and the real API, cited into the original."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import made_documents as made
import pytest
from conftest import SEEDS, SMALL, STORE, live_server


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("formats")
    made.two_columns(corpus / "page.pdf")
    made.crossing_pages(corpus / "report.pdf")
    made.turned_pages(corpus / "turned.pdf")
    made.word(corpus / "port.docx")
    made.html(corpus / "news.html")
    made.markdown(corpus / "notes.md")
    shutil.copy(SEEDS / SMALL, corpus / SMALL)
    index_dir = tmp_path_factory.mktemp("formats-index")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            str(corpus),
            "--json",
            "--index-dir",
            str(index_dir),
            "--store",
            STORE,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    from qa.settings import Settings

    return corpus, Settings(store=STORE, index_dir=index_dir), json.loads(proc.stdout), proc.stderr


def _ask(url: str, question: str) -> list[dict]:
    resp = httpx.post(f"{url}/api/search", json={"question": question, "k": 5}, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()["hits"]


def test_qa_index_reads_every_format_and_warns_about_the_blank_and_the_sideways_page(indexed) -> None:
    _, _, report, stderr = indexed
    added = ["page.pdf", "report.pdf", "turned.pdf", "port.docx", "news.html", "notes.md", SMALL]
    assert sorted(report["documents"]["added"]) == sorted(added)
    assert "report.pdf: page 3: no text layer" in stderr and "OCR" in stderr
    assert "turned.pdf: page 3: its text runs sideways" in stderr
    skipped = sorted((s["doc"], s["reason"].split(":")[0]) for s in report["skipped"])
    assert skipped == [("report.pdf", "page 3"), ("turned.pdf", "page 3")], report["skipped"]


def test_citations_point_into_the_original_over_the_api(indexed) -> None:
    _, settings, _, _ = indexed
    with live_server(settings) as url:
        pdf = next(
            h for h in _ask(url, "乍浦渔港新建泊位可以停靠多少艘渔船") if h["citation"]["doc"] == "page.pdf"
        )
        citation = pdf["citation"]
        assert citation["format"] == "pdf" and citation["page_start"] == citation["page_end"] == 1
        assert "六十艘渔船" in pdf["text"] and made.RIGHT[0] in pdf["text"]
        drawn = made.two_columns(Path(settings.index_dir) / "again.pdf")  # drawn again to know the places
        for line in (d for d in drawn.lines if d[1] in made.RIGHT[0]):
            page, text, x, baseline, size = line
            assert any(
                b["page"] == page
                and b["x0"] <= x + 0.01
                and b["x1"] >= x + len(text) * size - 0.01
                and b["top"] <= baseline <= b["bottom"] + 0.01
                for b in citation["boxes"]
            )
        crossing = next(
            h for h in _ask(url, "临港大道什么时候封闭施工") if h["citation"]["doc"] == "report.pdf"
        )
        assert "临港大道" in crossing["text"] and crossing["citation"]["page_end"] == 2
        a, b = crossing["highlight"]
        assert crossing["highlight_boxes"] and all(
            any(box["page"] == c["page"] and box["top"] == c["top"] for c in crossing["citation"]["boxes"])
            for box in crossing["highlight_boxes"]
        ), "the answer span's lines are lines of the passage"
        assert sum(box["x1"] - box["x0"] for box in crossing["highlight_boxes"]) == pytest.approx(
            (b - a) * made.SIZE, abs=0.1
        ), "one em per quoted character"
        assert made.RUNNING_HEADER not in crossing["text"]
        html = next(h for h in _ask(url, "公园里种植了哪些树木") if h["citation"]["doc"] == "news.html")
        assert html["citation"]["format"] == "html" and html["citation"]["source_line_start"] >= 1
        md = next(
            h
            for h in _ask(url, "海鲜市场每天几点开始交易")
            if h["citation"]["doc"] in ("notes.md", "port.docx")
        )
        assert md["citation"]["format"] in ("markdown", "docx")
        chat = httpx.post(
            f"{url}/api/chat",
            json={"messages": [{"role": "user", "content": "乍浦渔港新建泊位可以停靠多少艘渔船？"}]},
            timeout=60,
        ).json()
        assert "六十艘" in chat["answer"], chat
        cited = chat["citations"][0]  # the same paragraph is in page.pdf, port.docx and notes.md
        assert (
            cited["format"]
            == {"page.pdf": "pdf", "turned.pdf": "pdf", "port.docx": "docx", "notes.md": "markdown"}[
                cited["doc"]
            ]
        ), cited
        assert not any(k.startswith("_") for k in cited) and ("boxes" in cited) == (cited["format"] == "pdf")
        txt = _ask(url, "截至3月1日庆元县健康码申领率是多少")[0]["citation"]
        assert txt["doc"] == SMALL and "format" not in txt and "boxes" not in txt
