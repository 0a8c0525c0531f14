"""Shared by the write-queue tests: documents that take a while to index, and a server that accepts writes."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import SEEDS, built, live_server

TOKEN = "write-load-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
ASYNC = {"Prefer": "respond-async"}

_SENTENCES = [
    s
    for path in sorted(SEEDS.glob("*.txt"))
    for s in re.split(r"(?<=[。！？])", path.read_text(encoding="utf-8"))
    if 20 <= len(s.strip()) <= 120
]


def big_document(paragraphs: int, tag: str = "大") -> str:
    """A page of ``paragraphs`` distinct paragraphs (every sentence numbered, so nothing is reused from the seeds)."""
    out = [f"{tag}型专题报道汇编"]
    for i in range(paragraphs):
        picked = [_SENTENCES[(i * 7 + j * 13) % len(_SENTENCES)].strip() for j in range(4)]
        out.append(
            f"本报讯 第{tag}{i}篇："
            + "".join(f"{s[:-1]}（{tag}{i}之{j}）{s[-1]}" for j, s in enumerate(picked))
        )
    return "\n\n".join(out) + "\n"


def small_document(n: int) -> str:
    place = f"第{n}号试点乡镇"
    return (
        f"{place}企业复工情况\n\n"
        f"本报讯 截至4月{n % 28 + 1}日，{place}已有{100 + n}家规上工业企业复工，复工率达到百分之九十，"
        f"员工返岗人数超过{2000 + n}人。乡镇建立了企业复工服务专班，为企业提供一站式服务，协调原材料和防疫物资。\n"
    )


@dataclass(frozen=True)
class Server:
    url: str
    corpus: Path
    index_dir: Path

    def put(
        self, client: httpx.Client, name: str, text: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return client.put(
            f"{self.url}/api/documents/{name}",
            content=text.encode("utf-8"),
            headers={**AUTH, **TEXT, **(headers or {})},
        )

    def job(self, client: httpx.Client, location: str) -> dict:
        resp = client.get(f"{self.url}{location}")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def finish(self, client: httpx.Client, location: str, within: float = 600) -> dict:
        """Poll a job until it has finished; its last state."""
        deadline = time.monotonic() + within
        while True:
            job = self.job(client, location)
            if job["state"] in ("done", "failed", "cancelled"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.5)

    def idle(self, client: httpx.Client, within: float = 600) -> dict:
        """Wait until no write runs or waits; the last health answer."""
        deadline = time.monotonic() + within
        while True:
            health = client.get(f"{self.url}/api/health").json()
            if (
                health["queue"] == {**health["queue"], "running": 0, "waiting": 0}
                and health["corpus"]["state"] != "updating"
            ):
                return health
            assert time.monotonic() < deadline, health
            time.sleep(0.5)

    def names(self, client: httpx.Client) -> set[str]:
        return {d["doc"] for d in client.get(f"{self.url}/api/documents").json()["documents"]}

    def files(self) -> set[str]:
        return {p.name for p in self.corpus.glob("*.txt")}


@contextmanager
def write_server(root: Path, embedder, **settings) -> Iterator[Server]:
    """A copy of the seeds indexed once, served with writes on."""
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    s = built(corpus, embedder, index_dir=root / "index", api_token=TOKEN, **settings)
    with live_server(s) as url:
        yield Server(url, corpus, s.index_dir)
