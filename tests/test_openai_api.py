"""/v1 through the real `openai` SDK against the real server: wenyuan as a model for OpenAI-compatible clients."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import openai
import pytest
from openai import OpenAI

from tests.conftest import ROOT, assert_error, live_server

Q = "截至3月1日庆元县健康码申领率是多少"
QINGYUAN = "庆元“健康码”申领率 全市第一"
OPENAI_ERROR_KEYS = {"message", "type", "code", "param"}
TOKEN = "v1-test-token"
ORIGIN = "https://chat.example"


def user(text: str) -> dict:
    return {"role": "user", "content": text}


@pytest.fixture(scope="module")
def client(server_url):
    with OpenAI(base_url=f"{server_url}/v1", api_key="anything", max_retries=0, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def token_server(settings):
    """A second server with a token, room for one question at a time in the model, and one web origin allowed."""
    from pydantic import SecretStr

    configured = settings.model_copy(
        update={"api_token": SecretStr(TOKEN), "model_queue_depth": 1, "cors_origins": ORIGIN}
    )
    with live_server(configured) as url:
        yield url


def assert_openai_error(resp: httpx.Response, status: int, code: str) -> dict:
    """OpenAI's error shape: {"error": {"message", "type", "code", "param"}}, nothing else."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == OPENAI_ERROR_KEYS, body
    assert body["error"]["code"] == code and body["error"]["message"], body
    assert body["error"]["type"] == ("server_error" if status >= 500 else "invalid_request_error")
    return body["error"]


def streamed(client: OpenAI, messages: list[dict], **extra) -> list:
    return list(client.chat.completions.create(model="wenyuan", messages=messages, stream=True, **extra))


def test_models_list(client):
    models = client.models.list().data
    assert [m.id for m in models] == ["wenyuan"]
    assert models[0].object == "model" and models[0].owned_by == "wenyuan" and models[0].created > 0
    assert client.models.retrieve("wenyuan").id == "wenyuan"


def test_answer_with_markers_source_list_and_citations(client, server_url):
    reply = client.chat.completions.create(model="wenyuan", messages=[user(Q)])
    assert reply.id.startswith("chatcmpl-") and reply.object == "chat.completion" and reply.model == "wenyuan"
    choice = reply.choices[0]
    assert choice.index == 0 and choice.finish_reason == "stop" and choice.message.role == "assistant"
    message = choice.message
    assert "64.24%" in message.content and "[1]" in message.content
    first = message.citations[0]
    assert first["doc"] == "000_03be0d9acd7aceea.txt" and first["title"] == QINGYUAN
    line = f"- [1] 《{QINGYUAN}》 000_03be0d9acd7aceea.txt · 第{first['paragraph']}段 · 第{first['line_start']}行"
    assert line in message.content.split("\n")
    assert message.abstained is False and message.question == Q
    assert message.generated is False and message.unsupported == []
    assert reply.usage.completion_tokens == len(message.content) and reply.usage.prompt_tokens == len(Q)
    # The same answer and citations as /api/chat, with the source list after a blank line.
    api = httpx.post(f"{server_url}/api/chat", json={"messages": [user(Q)]}, timeout=120).json()
    assert message.content.startswith(api["answer"] + "\n\n来源：\n")
    assert message.citations == api["citations"]


def test_stream_gives_the_same_answer_and_citations_in_the_last_chunk(client):
    plain = client.chat.completions.create(model="wenyuan", messages=[user(Q)]).choices[0].message
    chunks = streamed(client, [user(Q)])
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.object for c in chunks} == {"chat.completion.chunk"} and len({c.id for c in chunks}) == 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == plain.content
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop" and [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (
        len(chunks) - 1
    )
    assert (
        last.delta.citations == plain.citations
        and last.delta.citations[0]["doc"] == "000_03be0d9acd7aceea.txt"
    )
    assert last.delta.abstained is False and last.delta.question == Q and last.delta.generated is False


def test_stream_usage_chunk_when_asked(client):
    chunks = streamed(client, [user(Q)], stream_options={"include_usage": True})
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(content)


def test_raw_stream_ends_with_done(server_url):
    body = {"model": "wenyuan", "messages": [user(Q)], "stream": True}
    with httpx.stream("POST", f"{server_url}/v1/chat/completions", json=body, timeout=120) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        events = [line for line in resp.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"


def test_follow_up_uses_the_conversation(client):
    first = (
        client.chat.completions.create(model="wenyuan", messages=[user("遂昌有多少家企业开工复工？")])
        .choices[0]
        .message
    )
    assert "299家" in first.content
    messages = [
        user("遂昌有多少家企业开工复工？"),
        {"role": "assistant", "content": first.content},
        user("平湖呢？"),
    ]
    follow = client.chat.completions.create(model="wenyuan", messages=messages).choices[0].message
    assert "平湖" in follow.question and "遂昌" not in follow.question
    # Quoted from 平湖's article; which of its sentences is the model's call (docs/answers.md names this miss).
    assert "平湖" in follow.content and "299家" not in follow.content
    assert {c["doc"] for c in follow.citations} == {"002_376477d7800202f4.txt"}


def test_system_messages_and_content_parts_as_open_webui_sends_them(client):
    plain = client.chat.completions.create(model="wenyuan", messages=[user(Q)]).choices[0].message
    parts = [{"type": "text", "text": Q[:6]}, {"type": "text", "text": Q[6:]}]
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": parts},
    ]
    reply = client.chat.completions.create(
        model="wenyuan",
        messages=messages,
        temperature=0.2,
        top_p=0.9,
        max_tokens=512,
        stop=["\n\n\n"],
        user="u1",
        n=1,
    )
    assert reply.choices[0].message.content == plain.content


@pytest.mark.parametrize("stream", [False, True])
def test_off_topic_is_declined_with_nearest_passages_for_reference(client, stream):
    messages = [user("红烧肉怎么做才好吃")]
    if stream:
        chunks = streamed(client, messages)
        content = "".join(c.choices[0].delta.content or "" for c in chunks)
        extra = chunks[-1].choices[0].delta
    else:
        extra = client.chat.completions.create(model="wenyuan", messages=messages).choices[0].message
        content = extra.content
    assert extra.abstained is True and extra.citations == []
    assert (
        content.startswith("资料中没有找到相关内容。")
        and "\n\n参考：\n- 《" in content
        and "[1]" not in content
    )


@pytest.mark.parametrize(
    "messages,extra,status",
    [
        ([], {}, 422),
        ([{"role": "assistant", "content": "截至2月22日……[1]"}], {}, 422),
        ([{"role": "system", "content": "只有系统消息"}], {}, 422),
        ([user(Q)], {"n": 2}, 422),
        ([user("问" * 501)], {}, 422),
        ([user("问" * 501)], {"stream": True}, 422),
    ],
)
def test_bad_requests_raise_the_sdk_error_for_their_status(client, messages, extra, status):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="wenyuan", messages=messages, **extra)
    assert (
        caught.value.status_code == status
        and caught.value.type == "invalid_request_error"
        and caught.value.message
    )


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[user(Q)])
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_invalid_json_is_a_bad_request(server_url):
    resp = httpx.post(
        f"{server_url}/v1/chat/completions", content=b"{bad", headers={"Content-Type": "application/json"}
    )
    assert_openai_error(resp, 400, "invalid_json")


def test_errors_on_v1_use_openai_shape_and_api_keeps_its_own(server_url):
    big = b" " * 1_100_000  # over the default WENYUAN_MAX_BODY_BYTES
    json_type = {"Content-Type": "application/json"}
    with httpx.Client(base_url=server_url, timeout=30) as http:
        assert_openai_error(
            http.post("/v1/chat/completions", content=big, headers=json_type), 413, "payload_too_large"
        )
        assert_openai_error(http.get("/v1/nothing"), 404, "not_found")
        assert_openai_error(http.get("/v1/chat/completions"), 405, "method_not_allowed")
        assert_error(http.post("/api/chat", content=big, headers=json_type), 413, "payload_too_large")
        assert_error(http.get("/api/nothing"), 404, "not_found")


def test_token_is_required_on_v1_when_set(token_server):
    with OpenAI(base_url=f"{token_server}/v1", api_key="wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.chat.completions.create(model="wenyuan", messages=[user(Q)])
        assert caught.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
    resp = httpx.get(f"{token_server}/v1/models")
    assert_openai_error(resp, 401, "invalid_api_key")
    assert resp.headers["www-authenticate"] == "Bearer"
    with OpenAI(base_url=f"{token_server}/v1", api_key=TOKEN, max_retries=0) as right:
        assert (
            "64.24%"
            in right.chat.completions.create(model="wenyuan", messages=[user(Q)]).choices[0].message.content
        )
    # /api reads stay open with a token set.
    assert (
        httpx.post(f"{token_server}/api/chat", json={"messages": [user(Q)]}, timeout=120).status_code == 200
    )


def test_streams_give_their_model_slot_back(token_server):
    """The token server admits one question at a time: a slot kept by a stream would make the next one 503."""
    with OpenAI(base_url=f"{token_server}/v1", api_key=TOKEN, max_retries=0, timeout=120) as c:
        for _ in range(3):
            assert "64.24%" in "".join(
                x.choices[0].delta.content or "" for x in streamed(c, [user(Q)]) if x.choices
            )
        with c.chat.completions.create(model="wenyuan", messages=[user(Q)], stream=True) as abandoned:
            next(iter(abandoned))
        deadline, status = time.monotonic() + 30, 503
        while status == 503 and time.monotonic() < deadline:
            try:
                c.chat.completions.create(model="wenyuan", messages=[user(Q)])
                status = 200
            except openai.InternalServerError as exc:
                status = exc.status_code
                time.sleep(0.2)
        assert status == 200


@pytest.fixture(scope="module")
def llm_server(settings):
    """A server whose answers an LLM writes: the stand-in of tests/llm_standin.py, with scripted replies."""
    from pydantic import SecretStr

    from tests.llm_standin import running

    with running() as standin:
        update = {
            "llm_base_url": standin.base_url,
            "llm_model": "standin-7b",
            "llm_api_key": SecretStr("sk-test"),
        }
        with live_server(settings.model_copy(update=update)) as url:
            yield url, standin


def test_generated_answers_are_verified_on_v1_too(llm_server):
    from tests.llm_standin import passages_of

    url, standin = llm_server
    standin.clear()
    fact = "截至3月1日，庆元县申领健康码共89423人，申领率为64.24%"
    invented = "截至3月1日，庆元县申领健康码共89424人"

    def reply(body: dict) -> str:
        n = next(i for i, p in enumerate(passages_of(body), start=1) if "64.24%" in p)
        return f"{invented}[{n}]。{fact}[{n}]。"

    standin.reply(reply)
    standin.reply(reply, chunk_chars=2)
    with OpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0, timeout=120) as c:
        plain = c.chat.completions.create(model="wenyuan", messages=[user(Q)]).choices[0].message
        chunks = streamed(c, [user(Q)])
    assert [r["stream"] for r in standin.requests] == [False, True]
    assert plain.generated is True and plain.unsupported and "89424" not in plain.content
    assert plain.content.startswith(f"{fact}[1]。\n\n来源：\n- [1] 《{QINGYUAN}》")
    assert "".join(x.choices[0].delta.content or "" for x in chunks) == plain.content
    last = chunks[-1].choices[0].delta
    assert (
        last.generated is True and last.citations == plain.citations and last.unsupported == plain.unsupported
    )


def preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-stainless-timeout",
        },
    )


def test_allowed_web_origins_may_call_v1_from_a_browser(token_server):
    ok = preflight(f"{token_server}/v1/chat/completions", ORIGIN)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ORIGIN
    assert {"authorization", "content-type"} <= set(ok.headers["access-control-allow-headers"].split(","))
    assert (
        "access-control-allow-origin"
        not in preflight(f"{token_server}/v1/chat/completions", "https://other.example").headers
    )
    body = {"model": "wenyuan", "messages": [user(Q)]}
    headers = {"Origin": ORIGIN, "Authorization": f"Bearer {TOKEN}"}
    answer = httpx.post(f"{token_server}/v1/chat/completions", json=body, headers=headers, timeout=120)
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == ORIGIN
    # /api stays same-origin.
    assert preflight(f"{token_server}/api/chat", ORIGIN).status_code == 405


def test_no_web_origin_is_allowed_by_default(server_url):
    resp = preflight(f"{server_url}/v1/chat/completions", ORIGIN)
    assert resp.status_code == 405 and "access-control-allow-origin" not in resp.headers


def test_openai_client_example(server_url):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "openai_client.py"), "--url", f"{server_url}/v1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "models: ['wenyuan']" in proc.stdout
    assert proc.stdout.count(f"- [1] 《{QINGYUAN}》 000_03be0d9acd7aceea.txt") == 2
    assert "64.24%" in proc.stdout and "（最后一块带引用：1 条）" in proc.stdout
    assert "平湖有多少家企业开工复工" in proc.stdout and "002_376477d7800202f4.txt" in proc.stdout
