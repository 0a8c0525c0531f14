"""The Milvus store's own behaviour on embedded Milvus (milvus-lite): updates, crashes, an unreachable server.

The shared retrieval, chat, documents and update tests run on Milvus too
(``WENYUAN_TEST_STORE=milvus``, as scripts/test.sh does); these cover what only
this store has.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SEEDS, SMALL, assert_error, live_server

pytest.importorskip("milvus_lite")

QA = str(ROOT / ".venv" / "bin" / "qa")
ADDED = "000_03be0d9acd7aceea.txt"


def qa(index_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [QA, *args, "--index-dir", str(index_dir), "--store", "milvus"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "WENYUAN_INDEX_LOCK_WAIT": "60"},
    )


def index_json(corpus: Path, index_dir: Path, *flags: str) -> dict:
    out = qa(index_dir, "index", str(corpus), "--json", *flags)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "[ERROR]" not in out.stderr
    return json.loads(out.stdout)


def hits(index_dir: Path, question: str, mode: str = "hybrid") -> list[dict]:
    out = qa(index_dir, "search", question, "--json", "--mode", mode, "-k", "10")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["hits"]


def test_updates_in_place_embed_only_what_changed(small_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    first = index_json(small_corpus, index_dir)
    assert first["documents"]["added"] == [SMALL] and first["embedded"] == first["chunks"]

    shutil.copy(SEEDS / ADDED, small_corpus / ADDED)
    added = index_json(small_corpus, index_dir)
    assert added["documents"] == {"added": [ADDED], "changed": [], "removed": [], "unchanged": 1}
    assert added["reused"] == first["chunks"] and added["embedded"] == added["chunks"] - first["chunks"]
    assert added["build"] != first["build"]
    top = hits(index_dir, "截至3月1日庆元县健康码申领率是多少")[0]
    assert top["citation"]["doc"] == ADDED and "64.24%" in top["text"][slice(*top["highlight"])]

    (small_corpus / "metadata.json").write_text(
        json.dumps({ADDED: {"publication": "庆元报"}}, ensure_ascii=False), encoding="utf-8"
    )
    relabelled = index_json(small_corpus, index_dir)
    assert relabelled["documents"]["changed"] == [ADDED] and relabelled["embedded"] == 0, (
        "metadata feeds BM25, not vectors"
    )
    assert hits(index_dir, "庆元报", "bm25")[0]["citation"]["doc"] == ADDED, "the BM25 text was rewritten"

    (small_corpus / ADDED).unlink()
    removed = index_json(small_corpus, index_dir)
    assert (
        removed["documents"]["removed"] == [ADDED]
        and removed["embedded"] == 0
        and removed["chunks"] == first["chunks"]
    )
    for mode in ("hybrid", "dense", "bm25"):
        assert all(h["citation"]["doc"] == SMALL for h in hits(index_dir, "庆元县健康码申领率", mode)), mode
    assert index_json(small_corpus, index_dir)["rebuilt"] is False


def test_a_killed_rebuild_leaves_the_served_build_and_the_next_run_cleans_up(small_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    before = index_json(small_corpus, index_dir)
    proc = subprocess.Popen(
        [QA, "index", str(small_corpus), "--index-dir", str(index_dir), "--store", "milvus", "--force"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = ""
        deadline = time.monotonic() + 300
        while "embedding" not in seen:  # the new build's collections exist once embedding starts
            assert proc.poll() is None and time.monotonic() < deadline, seen
            seen += os.read(proc.stderr.fileno(), 4096).decode("utf-8", "replace")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert hits(index_dir, "健康码申领率"), "the previous build still answers"
    out = qa(index_dir, "index", str(small_corpus), "--json")
    assert out.returncode == 0, out.stderr
    assert "dropped collections no build is served from" in out.stderr
    after = json.loads(out.stdout)
    assert after["embedding"]["embedded"] == 0, after[
        "embedding"
    ]  # the served build is unchanged: nothing to embed
    assert after | {"seconds": 0, "embedding": None} == before | {
        "seconds": 0,
        "embedding": None,
        "rebuilt": False,
        "embedded": 0,
        "reused": before["chunks"],
        "sentences": {"embedded": 0, "reused": 0},
        "documents": {"added": [], "changed": [], "removed": [], "unchanged": 1},
    }


def test_an_unreachable_milvus_is_one_line_and_a_503(tmp_path):
    out = subprocess.run(
        [
            QA,
            "search",
            "健康码",
            "--store",
            "milvus",
            "--milvus-uri",
            "http://127.0.0.1:9",
            "--index-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert (
        out.stderr.startswith("error: cannot reach Milvus at http://127.0.0.1:9")
        and out.stderr.count("\n") == 1
    ), out.stderr

    from qa.settings import Settings

    settings = Settings(index_dir=tmp_path, store="milvus", milvus_uri="http://127.0.0.1:9")
    with live_server(settings, healthy=False) as url:
        deadline = time.monotonic() + 60
        while True:
            resp = httpx.get(f"{url}/api/health", timeout=30)
            error = assert_error(resp, 503)
            if "cannot reach Milvus" in error["message"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "cannot reach Milvus at http://127.0.0.1:9" in error["message"]


def test_citation_locations_are_kept_and_updated_as_the_local_store_keeps_them(tmp_path, embedder):
    """PDF pages, boxes and lines, HTML and Markdown source lines: the same JSON back from Milvus as from the local files,
    and rewritten in place when only a PDF's layout changes (same text, so same chunk ids and vectors)."""
    from qa.index.factory import build, open_index
    from qa.settings import Settings
    from tests import made_documents as made

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    made.crossing_pages(corpus / "report.pdf")
    made.markdown(corpus / "notes.md")
    made.html(corpus / "news.html")

    def moved(x: float) -> None:
        pdf = made.Pdf(corpus / "moved.pdf")
        pdf.text(x, 90, "平湖城东口袋公园建成开放", size=18)
        pdf.paragraph(x, 120, made.LEFT[1], 30)
        pdf.save()

    def origins() -> dict[str, dict[str, dict | None]]:
        out = {}
        for store in ("local", "milvus"):
            settings = Settings(store=store, index_dir=tmp_path / store)
            build(corpus, settings, embedder, progress=False)
            out[store] = {c.id: c.origin for c in open_index(settings).iter_chunks()}
        return out

    moved(72)
    first = origins()
    assert first["milvus"] == first["local"]
    kinds = {o["format"] for o in first["local"].values()}
    assert kinds == {"pdf", "markdown", "html"} and all(
        "_lines" in o and o["boxes"] for o in first["local"].values() if o["format"] == "pdf"
    ), "a PDF passage keeps its lines, so an answer span inside it has boxes"
    moved(144)
    second = origins()
    assert second["milvus"] == second["local"]
    changed = [i for i, o in second["local"].items() if o != first["local"].get(i)]
    assert changed and all(i in first["local"] for i in changed), "same ids, new boxes"
