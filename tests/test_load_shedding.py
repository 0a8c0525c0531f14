"""Load shedding on the real server: beyond the model's queue depth, a quick 503 busy with Retry-After.

Each test starts its own uvicorn with a queue depth set through Settings, fires
a burst of simultaneous questions from many threads and checks every answer's
status and shape; no timing is asserted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from qa.api.admission import Admission, BusyError
from tests.conftest import live_server

QUESTIONS = [
    "截至3月1日庆元县健康码申领率是多少",
    "遂昌有多少家企业开工复工？",
    "平湖的企业复工率是多少",
    "衢宁铁路建设进展如何",
    "驻企服务员做什么",
    "卫星能源复工了吗",
]
BURST = 24
UNSHED = ("/api/health", "/api/documents", "/")
ERROR_KEYS = {"status", "code", "message"}


@pytest.fixture(scope="module")
def shallow_url(settings) -> Iterator[str]:
    with live_server(settings.model_copy(update={"model_queue_depth": 1, "busy_retry_after_s": 3})) as url:
        yield url


@pytest.fixture(scope="module")
def deep_url(settings) -> Iterator[str]:
    with live_server(settings.model_copy(update={"model_queue_depth": BURST + 8})) as url:
        yield url


def burst(
    url: str, path: str, payload: Callable[[str], dict]
) -> tuple[list[httpx.Response], list[httpx.Response]]:
    """BURST simultaneous POSTs, and the GET routes' answers polled while they were in flight."""
    start = threading.Barrier(BURST + 1)
    answers: list[httpx.Response] = []
    health: list[httpx.Response] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            start.wait()
            resp = c.post(path, json=payload(QUESTIONS[n % len(QUESTIONS)]))
        with lock:
            answers.append(resp)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(BURST)]
    for t in threads:
        t.start()
    with httpx.Client(base_url=url, timeout=120) as c:
        start.wait()
        while any(t.is_alive() for t in threads) or len(health) < len(UNSHED):
            health.append(c.get(UNSHED[len(health) % len(UNSHED)]))
    for t in threads:
        t.join()
    assert len(answers) == BURST, "a request failed without an HTTP answer"
    return answers, health


def search(q: str) -> dict:
    return {"question": q, "k": 5}


def chat(q: str) -> dict:
    return {"messages": [{"role": "user", "content": q}], "k": 5}


def assert_busy(resp: httpx.Response, retry_after: str) -> None:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["status"] == 503 and body["error"]["code"] == "busy" and body["error"]["message"]
    assert resp.headers["Retry-After"] == retry_after
    assert "Traceback" not in resp.text


@pytest.mark.parametrize(("path", "payload"), [("/api/search", search), ("/api/chat", chat)])
def test_full_queue_answers_busy_and_the_rest_normally(shallow_url, path, payload):
    for _ in range(5):  # one burst nearly always overflows a queue of one; five all missing is implausible
        answers, health = burst(shallow_url, path, payload)
        statuses = sorted({r.status_code for r in answers})
        assert set(statuses) <= {200, 503}, statuses
        assert all(r.status_code == 200 for r in health), [r.status_code for r in health]
        if 503 in statuses:
            break
    assert 200 in statuses and 503 in statuses, statuses
    for resp in answers:
        if resp.status_code == 503:
            assert_busy(resp, "3")
        else:
            assert resp.json()["hits"]


def test_queue_deeper_than_the_burst_admits_everyone(deep_url, shallow_url):
    deep, _ = burst(deep_url, "/api/search", search)
    shallow, _ = burst(shallow_url, "/api/search", search)
    assert [r.status_code for r in deep] == [200] * BURST
    assert any(r.status_code == 503 for r in shallow)


def test_admission_refuses_beyond_depth_without_waiting_and_frees_slots():
    gate = Admission(2, 5)
    with gate.slot(), gate.slot():
        with pytest.raises(BusyError) as info:
            with gate.slot():
                pass
        assert info.value.retry_after_s == 5 and info.value.code == "busy"
    with gate.slot(), gate.slot():
        pass
    with pytest.raises(ValueError):
        Admission(0, 1)
