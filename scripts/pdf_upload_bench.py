"""Figure for issue 19: a ~5 MB PDF uploaded with PUT /api/documents/{name}, then a question answered from one of its pages.

    .venv/bin/python scripts/pdf_upload_bench.py [--pages 40] [--megabytes 4.9] [--work DIR] [--keep]

A benchmark, not a test: it prints seconds. The PDF is drawn with reportlab
by tests/made_documents.py (STSong-Light): two columns of the seeds'
own sentences on every page, shuffled so that no two passages repeat, and a
photo-like noise image per page that brings the file to the size asked for
(text alone is ~15 KB a page; a 5 MB newspaper PDF is mostly pictures). One
page holds a sentence found nowhere else; the question asks about it. The
server is the real one (`qa serve` in its own process, API token set) over a
one-page seed corpus; the upload is timed until the new build is served, and
`extract_pdf` alone is timed in this process for the share extraction takes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import made_documents as made  # noqa: E402  the tests' PDF drawing: STSong-Light, known places

SEEDS = ROOT / "seeds"
SMALL = "003_54b69cf64c17b6a2.txt"
TOKEN = "bench-token"
FACT = "嘉兴港区新建的七号泊位将于九月二十日正式投入使用，设计年吞吐能力为一百二十万标准箱。"
QUESTION = "七号泊位什么时候正式投入使用？"


def sentences() -> list[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    return [s for s in re.findall(r"[^。！？\n]+[。！？]", text) if len(s) >= 12]


def draw(path: Path, pages: int, fact_page: int, image_side: int, seed: int = 1) -> None:
    """Two columns of shuffled seed sentences per page (wrapped to the column's width, as a typesetter does), the
    fact opening a paragraph on ``fact_page``, a running header, a page number and a noise image on each page."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    rand = random.Random(seed)
    pool = sentences()
    pdf = made.Pdf(path)
    for number in range(1, pages + 1):
        pdf.furniture()
        if image_side:
            noise = Image.frombytes(
                "RGB", (image_side, image_side), rand.randbytes(3 * image_side * image_side)
            )
            pdf.canvas.drawImage(ImageReader(noise), 72, made.PAGE[1] - 300, width=451, height=220)
        for left in (72.0, 312.0):
            top = 330.0
            while (
                top < 560
            ):  # three sentences take up to ~14 lines: the last paragraph ends above the page number
                paragraph = "".join(rand.sample(pool, 3))
                if number == fact_page and left == 72.0 and top == 330.0:
                    paragraph = FACT + paragraph
                top = pdf.fitted(left, top, paragraph, 20 * made.SIZE)
        pdf.next_page()
    pdf.save()


def sized(path: Path, pages: int, fact_page: int, megabytes: float) -> None:
    """Drawn once without images to learn the text's bytes, then with images sized to reach ``megabytes``."""
    draw(path, pages, fact_page, 0)
    text = path.stat().st_size
    side = math.sqrt(max(0.0, megabytes * 1e6 - text) / pages / 3)
    for _ in range(3):  # the image's own bytes are a little more than its pixels': correct the side twice
        draw(path, pages, fact_page, int(side))
        images = path.stat().st_size - text
        if not images or abs(path.stat().st_size - megabytes * 1e6) < 0.01e6:
            return
        side *= math.sqrt((megabytes * 1e6 - text) / images)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(work: Path, pages: int, megabytes: float) -> dict:
    sys.path.insert(0, str(ROOT))
    from qa.ingest.formats.pdf import extract_pdf

    fact_page = pages * 2 // 3
    pdf = work / "港区图片版.pdf"
    sized(pdf, pages, fact_page, megabytes)
    raw = pdf.read_bytes()
    started = time.perf_counter()
    extracted = extract_pdf(raw)
    extract_s = time.perf_counter() - started

    corpus, index_dir = work / "corpus", work / "index"
    corpus.mkdir()
    shutil.copy(SEEDS / SMALL, corpus / SMALL)
    env = {
        **os.environ,
        "WENYUAN_API_TOKEN": TOKEN,
        "WENYUAN_CORPUS_DIR": str(corpus),
        "WENYUAN_DOCUMENT_WRITE_HOLD_S": "3600",
    }
    qa = [sys.executable, "-m", "qa.cli"]
    subprocess.run(
        [*qa, "index", str(corpus), "--index-dir", str(index_dir), "--quiet"],
        check=True,
        env=env,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [*qa, "serve", "--port", str(port), "--index-dir", str(index_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become healthy in 180 s")
            time.sleep(0.3)
        started = time.perf_counter()
        put = httpx.put(
            f"{url}/api/documents/{pdf.name}",
            content=raw,
            timeout=3600,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/pdf"},
        )
        upload_s = time.perf_counter() - started
        if put.status_code not in (200, 201):
            raise SystemExit(f"upload answered {put.status_code}: {put.text}")
        started = time.perf_counter()
        chat = httpx.post(
            f"{url}/api/chat", json={"messages": [{"role": "user", "content": QUESTION}]}, timeout=120
        ).json()
        chat_s = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    cited = chat["citations"][0] if chat["citations"] else {}
    return {
        "pdf_bytes": len(raw),
        "pages": pages,
        "rendition_chars": len(extracted.text),
        "chunks": put.json().get("chunks"),
        "extract_s": round(extract_s, 2),
        "extract_pages_per_s": round(pages / extract_s, 1),
        "upload_s": round(upload_s, 2),
        "chat_s": round(chat_s, 2),
        "answer": chat["answer"],
        "cited": {k: cited.get(k) for k in ("doc", "page_start", "page_end")},
        "fact_page": fact_page,
        "answered_from_the_page": cited.get("doc") == pdf.name
        and cited.get("page_start") == fact_page
        and "九月二十日" in chat["answer"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument(
        "--megabytes", type=float, default=4.9, help="file size; the server's default cap is 5 000 000 bytes"
    )
    parser.add_argument("--work", type=Path, help="a folder to work in (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="pdf-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(json.dumps(run(work, args.pages, args.megabytes), ensure_ascii=False, indent=2))
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
