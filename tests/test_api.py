"""The real app over HTTP (live uvicorn on loopback) with the real index and model."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from tests.conftest import assert_error

Q = "截至3月1日庆元县健康码申领率是多少"


@pytest.fixture(scope="module")
def client(server_url):
    with httpx.Client(base_url=server_url, timeout=60) as c:
        yield c


def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["chunks"] > 100 and "e5" in body["model"]


def test_search_matches_cli_schema(client):
    body = client.post("/api/search", json={"question": Q, "k": 3}).json()
    assert set(body) == {"question", "mode", "took_ms", "hits"} and body["mode"] == "hybrid"
    assert len(body["hits"]) == 3
    top = body["hits"][0]
    assert "64.24%" in top["text"] and top["citation"]["title"] == "庆元“健康码”申领率 全市第一"


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_search_modes(client, mode):
    body = client.post("/api/search", json={"question": Q, "mode": mode}).json()
    assert body["mode"] == mode and len(body["hits"]) == 5


def test_chat_quotes_with_markers(client):
    body = client.post("/api/chat", json={"messages": [{"role": "user", "content": Q}]}).json()
    assert not body["abstained"]
    assert "64.24%" in body["answer"] and "[1]" in body["answer"]
    first = body["citations"][0]
    assert first["doc"] == "000_03be0d9acd7aceea.txt" and first["title"] == "庆元“健康码”申领率 全市第一"
    hit = next(h for h in body["hits"] if h["citation"]["start"] == first["start"])
    s, e = hit["highlight"]
    assert hit["text"][s:e] in body["answer"]
    markers = [int(m) for m in __import__("re").findall(r"\[(\d+)\]", body["answer"])]
    assert markers == list(range(1, len(body["citations"]) + 1))


def test_follow_up_is_resolved_from_the_conversation(client):
    first = client.post(
        "/api/chat", json={"messages": [{"role": "user", "content": "遂昌有多少家企业开工复工？"}]}
    ).json()
    assert "299家" in first["answer"]
    messages = [
        {"role": "user", "content": "遂昌有多少家企业开工复工？"},
        {"role": "assistant", "content": first["answer"]},
        {"role": "user", "content": "平湖呢？"},
    ]
    body = client.post("/api/chat", json={"messages": messages}).json()
    assert "平湖" in body["question"] and "遂昌" not in body["question"]
    assert body["hits"][0]["citation"]["doc"] == "002_376477d7800202f4.txt"
    assert "299家" not in body["answer"]


def test_off_topic_is_declined_but_nearest_hits_returned(client):
    body = client.post(
        "/api/chat", json={"messages": [{"role": "user", "content": "红烧肉怎么做才好吃"}]}
    ).json()
    assert body["abstained"] is True
    assert body["citations"] == [] and "资料中没有找到相关内容" in body["answer"]
    assert body["hits"], "the nearest passages are still returned"


def test_documents_list_and_detail(client):
    docs = client.get("/api/documents").json()["documents"]
    assert len(docs) == 5
    d0 = next(d for d in docs if d["doc"] == "000_03be0d9acd7aceea.txt")
    assert "庆元“健康码”申领率 全市第一" in d0["titles"] and d0["chunks"] > 0
    detail = client.get("/api/documents/000_03be0d9acd7aceea.txt").json()
    titles = [a["title"] for a in detail["articles"]]
    assert "庆元“健康码”申领率 全市第一" in titles
    paras = [p for a in detail["articles"] for p in a["paragraphs"]]
    assert any("64.24%" in p["text"] for p in paras)
    assert all({"paragraph", "text", "start", "end", "line_start", "line_end"} <= set(p) for p in paras)


def test_docs_page_works_offline(client):
    page = client.get("/docs").text
    assert "cdn" not in page.lower() and "swagger" in page.lower()
    assert client.get("/openapi.json").json()["info"]["title"].startswith("问源")


@pytest.mark.parametrize(
    "body, status",
    [
        ({"question": ""}, 422),
        ({"question": "   "}, 422),
        ({}, 422),
        ({"question": "测" * 501}, 422),
        ({"question": Q, "k": 0}, 422),
        ({"question": Q, "k": 51}, 422),
        ({"question": Q, "k": "many"}, 422),
        ({"question": Q, "mode": "magic"}, 422),
    ],
)
def test_search_bad_input(client, body, status):
    assert_error(client.post("/api/search", json=body), status)


def test_invalid_json(client):
    err = assert_error(
        client.post("/api/search", content=b"{not json", headers={"content-type": "application/json"}), 400
    )
    assert err["code"] == "invalid_json"


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "assistant", "content": "你好"}],
        [{"role": "user", "content": Q}, {"role": "assistant", "content": "x"}],
    ],
)
def test_chat_bad_conversation(client, messages):
    assert_error(client.post("/api/chat", json={"messages": messages}), 422)


def test_chat_declines_a_question_without_content(client):
    """Chat declines (no quote, no citation) what search refuses with 422: blank, punctuation, control characters."""
    for content in [" ", "？！", "\x00\x07"]:
        resp = client.post("/api/chat", json={"messages": [{"role": "user", "content": content}]})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["abstained"] is True and body["citations"] == []


def test_unknown_document(client):
    assert_error(client.get("/api/documents/nope.txt"), 404, "unknown_document")


@pytest.mark.parametrize(
    "path", ["..%2F..%2Fpyproject.toml", "%2Fetc%2Fpasswd", "..%2Fseeds%2F000_03be0d9acd7aceea.txt"]
)
def test_document_name_cannot_leave_the_corpus(client, path):
    resp = client.get(f"/api/documents/{path}")
    assert resp.status_code in (400, 404)
    assert_error(resp, resp.status_code)
    assert "[project]" not in resp.text and "root:" not in resp.text


def test_unknown_route_uses_error_shape(client):
    assert_error(client.get("/api/nothing"), 404, "not_found")


def test_concurrent_requests_are_safe(client):
    questions = [
        Q,
        "遂昌有多少家企业开工复工？",
        "平湖规上工业企业复工多少家",
        "扶沟援助吉林医疗队有几人",
    ] * 3

    def ask(q: str) -> str:
        return client.post("/api/search", json={"question": q, "k": 1}).json()["hits"][0]["citation"]["doc"]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        docs = list(pool.map(ask, questions))
    assert docs == [ask(q) for q in questions]


def test_health_is_503_until_an_index_loads(tmp_path):
    from fastapi.testclient import TestClient

    from qa.api.server import create_app
    from qa.settings import Settings

    # base_url: the Host allow-list answers loopback names, not TestClient's default "testserver"
    with TestClient(create_app(Settings(index_dir=tmp_path / "none")), base_url="http://localhost") as client:
        for _ in range(50):
            resp = client.get("/api/health")
            if "qa index" in resp.text:
                break
            __import__("time").sleep(0.1)
        err = assert_error(resp, 503)
        assert "qa index" in err["message"]
        assert_error(client.post("/api/search", json={"question": Q}), 503)
