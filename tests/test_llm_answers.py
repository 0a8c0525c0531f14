"""LLM answers end to end: the real index and server, with a stand-in LLM (tests/llm_standin.py) giving scripted replies.

The stand-in speaks the OpenAI chat-completions protocol on a loopback port
and records every request, so each test can check what the model was given,
what it said, and what reached the user: only sentences whose cited passages
hold their facts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from qa.answer import chat
from qa.answer.llm import LlmClient, LlmFailure
from qa.text import sentences
from tests.conftest import free_port, live_server
from tests.llm_standin import llm_settings, passages_of

HEALTH = "截至3月1日庆元县健康码申领率是多少"
FACT = "截至3月1日，庆元县申领健康码共89423人，申领率为64.24%"
INVENTED = "截至3月1日，庆元县申领健康码共89424人"
OFF_TOPIC = "红烧肉怎么做才好吃"
TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def llm_url(settings, standin):
    with live_server(llm_settings(settings, standin, TIMEOUT_S, "sk-test")) as url:
        yield url


@pytest.fixture()
def llm(standin):
    standin.clear()
    return standin


def ask(url: str, question: str = HEALTH) -> dict:
    resp = httpx.post(
        f"{url}/api/chat", json={"messages": [{"role": "user", "content": question}]}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def quoted(engine, question: str = HEALTH) -> chat.ChatAnswer:
    """The answer the server gives without an LLM."""
    return chat.answer(engine.retriever, [{"role": "user", "content": question}])


def with_fact(body: dict) -> int:
    """The number of the given passage that holds 64.24%."""
    return next(n for n, p in enumerate(passages_of(body), start=1) if "64.24%" in p)


def other(body: dict) -> tuple[int, str]:
    """The last given passage that does not hold the fact, and its first sentence verbatim."""
    given = passages_of(body)
    n = max(n for n, p in enumerate(given, start=1) if "64.24%" not in p)
    text = given[n - 1].split("\n", 1)[1]
    start, end = sentences.spans(text)[0]
    return n, text[start:end].rstrip("。") + "。"


def faithful(body: dict) -> str:
    """A verbatim sentence of a later passage first, then the fact: markers must come back renumbered."""
    n, sentence = other(body)
    return f"{sentence[:-1]}[{n}]。{FACT}[{with_fact(body)}]。"


def events(resp: httpx.Response) -> list[tuple[str, dict]]:
    out, name = [], ""
    for line in resp.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
    return out


def test_faithful_answer_is_generated_with_renumbered_markers(llm_url, llm):
    llm.reply(faithful)
    body = ask(llm_url)
    [request] = llm.requests
    n, sentence = other(request)
    assert body["generated"] is True and body["unsupported"] == [] and body["generation_note"] is None
    assert body["answer"] == f"{sentence[:-1]}[1]。{FACT}[2]。"
    hits = body["hits"]
    assert body["citations"] == [hits[n - 1]["citation"], hits[with_fact(request) - 1]["citation"]]
    # What the model was given: the question and the top passages, headline and text, numbered in rank order.
    assert request["model"] == "standin-7b" and request["stream"] is False
    assert HEALTH in request["messages"][-1]["content"]
    assert passages_of(request) == [f"《{h['citation']['title']}》\n{h['text']}" for h in hits[:5]]
    assert llm.headers[-1].get("Authorization") == "Bearer sk-test"


def test_invented_number_never_reaches_the_answer(llm_url, llm):
    llm.reply(lambda b: f"{FACT}[{with_fact(b)}]。{INVENTED}[{with_fact(b)}]。")
    body = ask(llm_url)
    n = with_fact(llm.requests[0])
    assert body["generated"] is True
    assert body["answer"] == f"{FACT}[1]。"
    assert body["unsupported"] == [f"{INVENTED}[{n}]。"]
    assert "89424" not in body["answer"]


def test_marker_to_a_passage_not_given_is_removed(llm_url, llm):
    llm.reply(lambda b: f"庆元县健康码申领率全市第一[{len(passages_of(b)) + 1}]。{FACT}[{with_fact(b)}]。")
    body = ask(llm_url)
    assert body["generated"] is True
    assert body["answer"] == f"{FACT}[1]。"
    assert body["unsupported"] == [f"庆元县健康码申领率全市第一[{len(passages_of(llm.requests[0])) + 1}]。"]
    assert len(body["citations"]) == 1 and "64.24%" in body["hits"][with_fact(llm.requests[0]) - 1]["text"]


def test_fact_cited_to_the_wrong_passage_is_removed(llm_url, llm):
    llm.reply(lambda b: f"{FACT}[{other(b)[0]}]。")
    body = ask(llm_url)
    assert body["generated"] is False
    assert body["unsupported"] == [f"{FACT}[{other(llm.requests[0])[0]}]。"]


@pytest.mark.parametrize(
    "script, note",
    [
        ({"text": f"{FACT}。"}, "no sentence of the model's answer was supported"),
        ({"text": "", "delay_s": TIMEOUT_S + 1.5}, f"did not answer within {TIMEOUT_S:g} s"),
        ({"text": "", "status": 500}, "HTTP 500"),
        ({"raw": b"<html>502 Bad Gateway</html>"}, "not an OpenAI chat completion"),
    ],
    ids=["no-markers", "timeout", "http-500", "garbage"],
)
def test_failed_generation_gives_the_quoted_answer_and_why(llm_url, llm, engine, script, note):
    llm.reply(**script)
    body = ask(llm_url)
    expected = quoted(engine)
    assert body["generated"] is False and not body["abstained"]
    assert body["answer"] == expected.answer and "64.24%" in body["answer"]
    assert body["citations"] == [c.to_json() for c in expected.citations]
    assert note in body["generation_note"]
    assert len(llm.requests) == 1


def test_declined_question_never_reaches_the_model(llm_url, llm):
    llm.reply("红烧肉要先焯水[1]。")
    body = ask(llm_url, OFF_TOPIC)
    assert body["abstained"] is True and body["generated"] is False and body["citations"] == []
    assert llm.requests == []


def test_stream_releases_only_verified_sentences(llm_url, llm):
    llm.reply(lambda b: f"{INVENTED}[{with_fact(b)}]。{FACT}[{with_fact(b)}]。{faithful(b)}", chunk_chars=2)
    payload = {"messages": [{"role": "user", "content": HEALTH}], "stream": True}
    with httpx.stream("POST", f"{llm_url}/api/chat", json=payload, timeout=60) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        got = events(resp)
    [request] = llm.requests
    assert request["stream"] is True
    deltas = [data["text"] for name, data in got if name == "delta"]
    [(last, answer)] = [e for e in got if e[0] != "delta"]
    n, sentence = other(request)
    assert last == "answer" and got[-1][0] == "answer"
    assert deltas == [f"{FACT}[1]。", f"{sentence[:-1]}[2]。", f"{FACT}[1]。"]
    assert "".join(deltas) == answer["answer"]
    assert answer["generated"] is True and answer["unsupported"] == [f"{INVENTED}[{with_fact(request)}]。"]
    assert not any("89424" in d for d in deltas)


def test_stream_falls_back_to_quoted_lines(llm_url, llm, engine):
    llm.reply("", status=500)
    payload = {"messages": [{"role": "user", "content": HEALTH}], "stream": True}
    with httpx.stream("POST", f"{llm_url}/api/chat", json=payload, timeout=60) as resp:
        got = events(resp)
    expected = quoted(engine)
    deltas = [data["text"] for name, data in got if name == "delta"]
    assert "".join(deltas) == expected.answer
    assert (
        got[-1][0] == "answer"
        and got[-1][1]["generated"] is False
        and "HTTP 500" in got[-1][1]["generation_note"]
    )


def test_base_url_without_model_stops_qa_serve_with_one_line(settings):
    env = {**os.environ, "WENYUAN_LLM_BASE_URL": "http://127.0.0.1:9/v1", "WENYUAN_LLM_MODEL": ""}
    args = ["serve", "--index-dir", str(settings.index_dir), "--port", str(free_port())]
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith("error: WENYUAN_LLM_BASE_URL is set but WENYUAN_LLM_MODEL is not")
    )
    assert "Traceback" not in proc.stderr


def test_stream_that_stalls_keeps_the_verified_sentences_and_says_why(llm_url, llm):
    first = lambda b: f"{FACT}[{with_fact(b)}]。"  # noqa: E731
    llm.reply(
        lambda b: first(b) + "此后的内容不会到达[1]。", chunk_chars=len(FACT) + 4, pause_s=TIMEOUT_S + 1.5
    )
    payload = {"messages": [{"role": "user", "content": HEALTH}], "stream": True}
    with httpx.stream("POST", f"{llm_url}/api/chat", json=payload, timeout=60) as resp:
        got = events(resp)
    answer = got[-1][1]
    assert [d["text"] for name, d in got if name == "delta"] == [f"{FACT}[1]。"]
    assert answer["generated"] is True and answer["answer"] == f"{FACT}[1]。"
    assert f"did not answer within {TIMEOUT_S:g} s" in answer["generation_note"]


def test_follow_up_reaches_the_model_as_the_standalone_question(llm_url, llm):
    llm.reply("", status=500)
    messages = [
        {"role": "user", "content": "遂昌有多少家企业开工复工？"},
        {"role": "assistant", "content": "截至2月22日,遂昌企业开工复工299家……[1]"},
        {"role": "user", "content": "平湖呢？"},
    ]
    resp = httpx.post(f"{llm_url}/api/chat", json={"messages": messages}, timeout=60).json()
    [request] = llm.requests
    prompt = request["messages"][-1]["content"]
    assert (
        f"问题：{resp['question']}" in prompt
        and "平湖" in resp["question"]
        and resp["question"] != "平湖呢？"
    )
    assert "299家" not in prompt.split("问题：")[-1]


def test_unreachable_model_is_a_reason_not_an_error():
    client = LlmClient(f"http://127.0.0.1:{free_port()}/v1", "m", timeout_s=5)
    with pytest.raises(LlmFailure, match="connection to the model server failed"):
        client.complete([{"role": "user", "content": "你好"}])
    with pytest.raises(LlmFailure, match="connection to the model server failed"):
        list(client.stream([{"role": "user", "content": "你好"}]))
    client.close()
