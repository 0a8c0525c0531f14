"""A real ``qa serve`` killed with ``kill -9`` mid-upload, then started again: it notices and catches up by itself.

The upload's file is complete in the corpus folder (written before indexing)
and the committed build lacks it. The restarted server must say so in
``/api/health`` at once (``updating``), serve the previous build meanwhile,
and reach ``in_sync`` with no request but health polls.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from qa.index.local import store
from tests.conftest import ROOT, free_port, local_only
from tests.write_load import ASYNC, TOKEN, big_document, write_server

pytestmark = local_only
QA = str(ROOT / ".venv" / "bin" / "qa")
START_S = 180


@contextmanager
def qa_serve(index_dir: Path, log: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``qa serve`` as a user runs it, on a free loopback port, its stderr in ``log``."""
    port = free_port()
    env = {**os.environ, "WENYUAN_API_TOKEN": TOKEN}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [QA, "serve", "--index-dir", str(index_dir), "--port", str(port)], stderr=err, env=env
        )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def first_health(url: str, proc: subprocess.Popen) -> tuple[dict, float]:
    """Poll until the server answers 200; its first answer and when it came."""
    deadline = time.monotonic() + START_S
    while True:
        assert proc.poll() is None, "qa serve exited"
        try:
            resp = httpx.get(f"{url}/api/health", timeout=5)
            if resp.status_code == 200:
                return resp.json(), time.monotonic()
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "qa serve did not start"
        time.sleep(0.1)


def test_kill_9_mid_upload_then_restart_catches_up_with_no_request(tmp_path, embedder):
    name = "断电前上传.txt"
    with write_server(tmp_path, embedder) as srv:
        corpus, index_dir = srv.corpus, srv.index_dir
    before = store.read_manifest(index_dir)

    with qa_serve(index_dir, tmp_path / "first.log") as (proc, url):
        first_health(url, proc)
        with httpx.Client(timeout=30) as client:
            resp = client.put(
                f"{url}/api/documents/{name}",
                content=big_document(40, "断").encode(),
                headers={
                    "Authorization": f"Bearer {TOKEN}",
                    "Content-Type": "text/plain; charset=utf-8",
                    **ASYNC,
                },
            )
            assert resp.status_code == 202, resp.text
            deadline = time.monotonic() + START_S
            while client.get(url + resp.headers["location"]).json()["progress"]["stage"] not in (
                "passages",
                "sentences",
            ):
                assert time.monotonic() < deadline, "the upload did not start indexing"
                time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (corpus / name).is_file(), "the file was complete in the folder before indexing began"
    assert store.read_manifest(index_dir).build == before.build, "the killed upload committed nothing"

    log = tmp_path / "second.log"
    with qa_serve(index_dir, log) as (proc, url):
        health, ready = first_health(url, proc)
        assert health["build"] == before.build, "the previous build is served meanwhile"
        assert health["corpus"] == {"state": "updating", "pending": 1}, health
        while health["corpus"]["state"] != "in_sync":
            assert health["corpus"]["state"] == "updating", health
            assert time.monotonic() - ready < START_S, health
            time.sleep(0.2)
            health = httpx.get(f"{url}/api/health", timeout=5).json()
        took = time.monotonic() - ready
        assert health["build"] != before.build and health["corpus"]["pending"] == 0
        listed = {d["doc"] for d in httpx.get(f"{url}/api/documents", timeout=30).json()["documents"]}
        assert name in listed and listed == {p.name for p in corpus.glob("*.txt")}, "folder = index"
    lines = [
        line
        for line in log.read_text(encoding="utf-8").splitlines()
        if "differs from the served build" in line
    ]
    assert len(lines) == 1 and "1 added, 0 changed, 0 removed" in lines[0], log.read_text(encoding="utf-8")
    assert re.search(r"serving build-\S+ meanwhile", lines[0])
    print(f"\nkill -9 mid-upload: in_sync {took:.1f} s after the restarted server first answered")
