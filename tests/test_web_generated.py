"""The chat page with an LLM configured: answers stream in, generated ones are marked, unverified text never shows.

A live server of the real app (real index) whose WENYUAN_LLM_* settings point
at the stand-in LLM (tests/llm_standin.py), and the Debian Chromium of the
chat page tests. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import pytest

from tests.conftest import live_server
from tests.llm_standin import llm_settings, passages_of

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# The chat page tests' Chromium fixture (Debian chromium, same launch args) and page helpers.
from tests.test_web_page import (  # noqa: E402
    HEALTH_QUESTION,
    OUTPUT,
    PHONE,
    ask,
    browser,  # noqa: F401  (the Chromium fixture, used as a parameter)
    checked_page,
    no_horizontal_scroll,
    open_page,
)

FACT = "截至3月1日，庆元县申领健康码共89423人，申领率为64.24%"
INVENTED = "庆元县健康码申领率比嘉兴市高出12.5个百分点"
RECORD_STREAM = """
window.__streamed = [];
new MutationObserver(() => {
  for (const node of document.querySelectorAll('[data-testid="streaming-text"]')) {
    window.__streamed.push(node.textContent);
  }
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def llm_url(settings, standin):
    with live_server(llm_settings(settings, standin, 20.0, "k")) as url:
        yield url


@pytest.fixture
def page(browser, llm_url, standin):
    standin.clear()
    with checked_page(browser, llm_url) as page:
        yield page


def fact_passage(body: dict) -> int:
    return next(n for n, p in enumerate(passages_of(body), start=1) if "64.24%" in p)


def test_generated_answer_streams_and_is_marked(page, standin):
    standin.reply(
        lambda b: (
            f"{FACT}[{fact_passage(b)}]。{INVENTED}[{fact_passage(b)}]。排名全市第一[{fact_passage(b)}]。"
        ),
        chunk_chars=4,
        pause_s=0.15,
    )
    page.evaluate(RECORD_STREAM)
    answer = ask(page, HEALTH_QUESTION)

    streamed = page.evaluate("window.__streamed")
    assert any(FACT in s for s in streamed), streamed  # text showed while the reply was still coming
    assert not any("12.5" in s for s in streamed), streamed  # the unverified sentence never did
    assert standin.requests[0]["stream"] is True

    expect(answer.get_by_test_id("generated-badge")).to_contain_text("由模型撰写 · 已逐句核对来源")
    expect(answer.get_by_test_id("unsupported-note")).to_have_text("已删除 1 句无出处的内容")
    text = answer.get_by_test_id("answer-text")
    expect(text).to_have_text(f"{FACT}1。排名全市第一1。")
    expect(answer.get_by_test_id("citation-marker")).to_have_count(2)
    cards = answer.locator('[data-testid="source-card"].is-cited')
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("64.24%")
    expect(page.get_by_test_id("message-streaming")).to_have_count(0)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "generated-answer.png"), animations="disabled")


def test_model_failure_shows_the_quoted_answer_with_a_note(page, standin):
    standin.reply("", status=500)
    answer = ask(page, HEALTH_QUESTION)
    expect(answer.get_by_test_id("generation-fallback")).to_contain_text("以下为原文摘录")
    expect(answer.get_by_test_id("generated-badge")).to_have_count(0)
    expect(answer.get_by_test_id("answer-text")).to_contain_text("64.24%")
    expect(answer.get_by_test_id("citation-marker").first).to_be_visible()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "generated-fallback.png"), animations="disabled")


def test_declined_question_has_no_model_note(page, standin):
    answer = ask(page, "红烧肉怎么做才好吃")
    expect(answer.get_by_test_id("answer-text")).to_contain_text("资料中没有找到相关内容")
    expect(answer.get_by_test_id("generated-badge")).to_have_count(0)
    expect(answer.get_by_test_id("generation-fallback")).to_have_count(0)
    assert standin.requests == []


def test_generated_answer_on_a_phone(browser, llm_url, standin):
    standin.clear()
    standin.reply(lambda b: f"{FACT}[{fact_passage(b)}]。{INVENTED}[{fact_passage(b)}]。")
    page = open_page(browser, llm_url, PHONE)
    try:
        answer = ask(page, HEALTH_QUESTION)
        expect(answer.get_by_test_id("generated-badge")).to_be_visible()
        expect(answer.get_by_test_id("unsupported-note")).to_be_visible()
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(OUTPUT / "generated-phone.png"), animations="disabled")
        assert not page.js_errors
    finally:
        page.context.close()
