"""Browser tests of the chat page (web/) against a live server of the app.

Uses the ``server_url`` fixture from tests/conftest.py (a running server of the
real app with the real index), Python Playwright's sync API and the Debian
Chromium binary (``apt-get install chromium fonts-noto-cjk``); Playwright's own
browser download is not used.  Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
ANSWER_TIMEOUT_MS = 120_000  # first question may wait for the model
UI_TIMEOUT_MS = 15_000

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HEALTH_QUESTION = "截至3月1日庆元县健康码申领率是多少"
HEALTH_TITLE = "庆元“健康码”申领率 全市第一"
XSS = '<img src=x onerror="window.__xss=1">'


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, server_url, viewport=DESKTOP):
    context = browser.new_context(
        viewport=viewport,
        locale="zh-CN",
        is_mobile=viewport["width"] < 500,
        has_touch=viewport["width"] < 500,
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda err: page.js_errors.append(str(err)))
    page.goto(server_url.rstrip("/") + "/")
    expect(page.get_by_test_id("question-input")).to_be_visible()
    return page


@contextmanager
def checked_page(browser, url, viewport=DESKTOP):
    """A fresh page of ``url``; closing it fails the test if any JavaScript error went uncaught."""
    page = open_page(browser, url, viewport)
    yield page
    errors = list(page.js_errors)
    page.context.close()
    assert not errors, f"uncaught JavaScript errors: {errors}"


@pytest.fixture
def page(browser, server_url):
    with checked_page(browser, server_url) as page:
        yield page


# ----------------------------------------------------------------- helpers


def replies(page):
    return page.locator('[data-testid="message-answer"], [data-testid="error-message"]')


def wait_for_reply(page, before: int):
    expect(replies(page)).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_test_id("thinking")).to_have_count(0)
    return replies(page).nth(before)


def ask(page, question: str):
    """Type a question, press Enter and return the new answer bubble."""
    before = replies(page).count()
    box = page.get_by_test_id("question-input")
    box.fill(question)
    box.press("Enter")
    reply = wait_for_reply(page, before)
    if reply.get_attribute("data-testid") == "error-message":
        pytest.fail(f"the server answered with an error: {reply.inner_text()}")
    return reply


def wait_for_routes(page, held: list, count: int):
    """Let Playwright dispatch route handlers until `count` requests are held."""
    for _ in range(200):
        if len(held) >= count:
            break
        page.wait_for_timeout(25)
    assert len(held) == count


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
        " && document.body.scrollWidth <= window.innerWidth"
    )


# ------------------------------------------------------------------- tests


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_answer_cites_and_opens_source_in_context(browser, server_url, viewport):
    OUTPUT.mkdir(exist_ok=True)
    phone = viewport is PHONE
    page = open_page(browser, server_url, viewport)
    try:
        answer = ask(page, HEALTH_QUESTION)
        expect(answer.get_by_test_id("citation-marker").first).to_be_visible()
        expect(answer).to_contain_text("64.24%")
        expect(answer.get_by_test_id("source-card").first).to_be_visible()
        assert answer.locator("mark").count() >= 1, "source cards highlight the answer span"
        assert no_horizontal_scroll(page)
        if phone:
            page.screenshot(path=str(OUTPUT / "web-chat-mobile.png"), animations="disabled")

        answer.get_by_test_id("citation-marker").first.click()
        panel = page.get_by_test_id("context-panel")
        expect(panel).to_be_visible()
        expect(panel).to_contain_text(HEALTH_TITLE)
        cited = panel.get_by_test_id("context-highlight")
        expect(cited).to_have_count(1)
        expect(cited).to_contain_text("64.24%")
        expect(cited.locator("mark")).not_to_have_text("")
        expect(cited).to_be_in_viewport()
        assert no_horizontal_scroll(page)

        if phone:
            box = panel.bounding_box()
            assert box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1, (
                "on a phone the context opens as a full-screen overlay"
            )
            page.screenshot(path=str(OUTPUT / "web-chat-mobile-context.png"), animations="disabled")
            page.get_by_role("button", name="关闭原文").click()
            expect(panel).to_be_hidden()
        else:
            page.screenshot(path=str(OUTPUT / "web-chat.png"), animations="disabled")
            # Clicking a source card opens the same passage.
            page.keyboard.press("Escape")
            expect(panel).to_be_hidden()
            answer.get_by_test_id("source-card").first.click()
            expect(panel.get_by_test_id("context-highlight")).to_be_visible()
        assert not page.js_errors, page.js_errors
    finally:
        page.context.close()


def test_user_text_is_never_interpreted_as_html(page):
    before = replies(page).count()
    box = page.get_by_test_id("question-input")
    box.fill(XSS)
    box.press("Enter")
    user = page.get_by_test_id("message-user")
    expect(user).to_have_count(1)
    expect(user).to_have_text(XSS)
    wait_for_reply(page, before)  # answer or error: either way, shown as text
    conversation = page.get_by_test_id("conversation")
    assert conversation.locator("img").count() == 0
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_shift_enter_and_ime_composition_do_not_send(page):
    box = page.get_by_test_id("question-input")
    users = page.get_by_test_id("message-user")

    # Empty or blank input does nothing.
    box.fill("   ")
    box.press("Enter")
    page.get_by_test_id("send-button").click()
    expect(users).to_have_count(0)

    # Shift+Enter inserts a newline.
    box.fill("第一行")
    box.press("Shift+Enter")
    box.press_sequentially("第二行")
    expect(box).to_have_value("第一行\n第二行")
    expect(users).to_have_count(0)

    # Enter that confirms a pinyin candidate must not send.
    box.fill("庆元")
    prevented = box.evaluate(
        """el => {
            const e = new KeyboardEvent("keydown", {key: "Enter", code: "Enter",
                isComposing: true, bubbles: true, cancelable: true});
            el.dispatchEvent(e);
            const f = new KeyboardEvent("keydown", {key: "Enter", code: "Enter",
                keyCode: 229, bubbles: true, cancelable: true});
            el.dispatchEvent(f);
            return e.defaultPrevented || f.defaultPrevented;
        }"""
    )
    assert prevented is False
    box.dispatch_event("compositionstart", {"data": ""})
    box.press("Enter")
    expect(users).to_have_count(0)
    box.dispatch_event("compositionend", {"data": "庆元"})

    # Once composition has ended, Enter sends.
    before = replies(page).count()
    box.fill("庆元县健康码申领率是多少")
    box.press("Enter")
    expect(users).to_have_count(1)
    expect(users.first).to_have_text("庆元县健康码申领率是多少")
    expect(box).to_have_value("")
    wait_for_reply(page, before)


def test_follow_up_question_uses_the_conversation(page):
    bodies = []
    page.on(
        "request",
        lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/chat") else None,
    )

    first = ask(page, "遂昌有多少家企业开工复工？")
    expect(first).to_contain_text("遂昌")

    second = ask(page, "平湖呢？")
    assert len(bodies) == 2
    messages = bodies[1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "遂昌有多少家企业开工复工？"
    assert messages[2]["content"] == "平湖呢？"

    # The evidence, not just the echoed question, must be about 平湖.
    evidence = second.get_by_test_id("answer-text").inner_text() + "\n".join(
        second.get_by_test_id("source-card").all_inner_texts()
    )
    assert "平湖" in evidence or "597" in evidence, evidence


def test_thinking_state_settings_and_error_message(page):
    held = []
    page.route("**/api/chat", lambda route: held.append(route))

    page.locator("#settings summary").click()
    page.get_by_test_id("mode-select").select_option("bm25")
    page.get_by_test_id("k-input").fill("3")

    box = page.get_by_test_id("question-input")
    box.fill("测试问题")
    box.press("Enter")
    thinking = page.get_by_test_id("thinking")
    expect(thinking).to_be_visible()
    expect(thinking).to_contain_text("正在查找资料")
    expect(page.get_by_test_id("send-button")).to_be_disabled()
    box.fill("再问一次")
    box.press("Enter")  # ignored while waiting
    expect(page.get_by_test_id("message-user")).to_have_count(1)

    wait_for_routes(page, held, 1)
    body = held[0].request.post_data_json
    assert body == {"messages": [{"role": "user", "content": "测试问题"}], "k": 3, "mode": "bm25"}

    error = {"error": {"status": 500, "code": "internal", "message": "检索服务暂时不可用<b>!</b>"}}
    held[0].fulfill(status=500, content_type="application/json", body=json.dumps(error))
    shown = page.get_by_test_id("error-message")
    expect(shown).to_contain_text("检索服务暂时不可用<b>!</b>")
    expect(thinking).to_have_count(0)
    expect(page.get_by_test_id("send-button")).to_be_enabled()

    # A network failure is reported too, and the page keeps working.
    box.fill("测试问题二")
    box.press("Enter")
    expect(thinking).to_be_visible()
    wait_for_routes(page, held, 2)
    held[1].abort()
    expect(shown).to_have_count(2)
    expect(shown.nth(1)).to_contain_text("无法连接服务器")
