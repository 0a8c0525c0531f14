"""Our own overhead in front of an embedding server: texts/s against a stand-in that returns precomputed vectors.

A GPU server answers thousands of texts a second; the client, the resume
cache and the store must not be what holds a run back (issue 20 asks ≥ 2 000
texts/s into a local index, ≥ 1 000 into embedded Milvus). The stand-in
(tests/embedding_standin.py) runs in a process of its own and has seen every
text once before the measured run, so its answers cost a table lookup.

    .venv/bin/python -m scripts.remote_embed_bench --docs 200 [--store milvus]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def make_corpus(folder: Path, docs: int, seed: int = 0) -> None:
    """Seed-style documents: the seeds' sentences shuffled, with fresh numbers, ten paragraphs each."""
    sentences = [
        s
        for p in sorted((ROOT / "seeds").glob("*.txt"))
        for s in re.findall(r"[^。！？\n]+[。！？]", p.read_text("utf-8"))
    ]
    rand = random.Random(seed)
    folder.mkdir(parents=True)
    for d in range(docs):
        paragraphs = [
            "".join(
                re.sub(r"\d+", lambda m: str(rand.randrange(10**4)), rand.choice(sentences)) for _ in range(5)
            )
            for _ in range(10)
        ]
        (folder / f"{d:05d}.txt").write_text(
            f"第{d}号文件\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )


def qa_index(corpus: Path, index_dir: Path, url: str, store: str, *more: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WENYUAN_EMBED_BATCH_SIZE": "64",
        "WENYUAN_EMBED_CONCURRENCY": "4",
    }
    command = [
        sys.executable,
        "-m",
        "qa.cli",
        "index",
        str(corpus),
        "--index-dir",
        str(index_dir),
        "--store",
        store,
        "--json",
        "--quiet",
        "--embedder",
        "openai",
        "--embed-url",
        url,
        "--embed-model",
        "e5",
        *more,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200, help="documents of ten paragraphs each")
    parser.add_argument("--store", choices=["local", "milvus"], default="local")
    parser.add_argument("--encoding", choices=["float", "base64"], default="float")
    args = parser.parse_args()
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.embedding_standin", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(100):
            try:
                httpx.post(f"{url}/embeddings", json={"input": ["x"], "model": "e5"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory(prefix="wenyuan-remote-bench-") as tmp:
            corpus = Path(tmp) / "corpus"
            make_corpus(corpus, args.docs)
            extra = ("--passage-prefix", "passage: ")
            os.environ["WENYUAN_EMBED_ENCODING_FORMAT"] = args.encoding
            qa_index(corpus, Path(tmp) / "warm", url, "local", *extra)  # the stand-in sees every text once
            report = qa_index(corpus, Path(tmp) / "measured", url, args.store, *extra)
    finally:
        server.terminate()
        server.wait()
    e = report["embedding"]
    print(
        json.dumps(
            {
                "store": args.store,
                "encoding": args.encoding,
                "chunks": report["chunks"],
                "embedding": e,
                "build_seconds": report["seconds"],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
