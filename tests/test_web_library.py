"""Browser tests of the 资料库 (library) panel of the chat page against a live server that accepts writes.

One module index of a copy of ``seeds/`` (built once with the bundled model) is
served with an API token set; the tests list it, upload new pages through the
panel, ask about them in the chat, and delete them again, all through the real
app over HTTP in Debian Chromium.  Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.conftest import SEEDS, live_server, local_only

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# The chat page tests' Chromium fixture (Debian chromium, same launch args) and page helpers.
from tests.test_web_page import (  # noqa: E402
    OUTPUT,
    PHONE,
    ROOT,
    ask,
    browser,  # noqa: F401  (the Chromium fixture, used as a parameter)
    checked_page,
    no_horizontal_scroll,
    open_page,
)

TOKEN = "library-test-token"
SEED_COUNT = 5

QINGTIAN = "青田县复工复产.txt"
QINGTIAN_TITLE = "青田县规上企业复工率超九成"
QINGTIAN_TEXT = f"""{QINGTIAN_TITLE}

本报讯（记者 叶晓 通讯员 林海）连日来，青田县坚持疫情防控和经济社会发展“两手抓”，全力推动企业有序复工复产。截至4月2日，青田县已有1234家规上企业复工，复工率达到96.5%，一批省市县重点建设项目也已陆续恢复施工。

为帮助企业破解用工难题，青田县人力社保局开通“点对点”包车服务，从江西、贵州等地接回外地员工三千余人，并在县城和各乡镇设立12个招聘服务点，帮助企业招引新员工，缓解一线岗位缺口。

在油竹街道一家阀门生产企业，三条生产线已经全面恢复运转。企业负责人介绍，县里派驻的驻企服务员帮助企业协调原材料运输和防疫物资，一季度的出口订单基本按期交付，没有受到太大影响。

青田县有关负责人表示，下一步将继续落实减税降费、金融支持等惠企政策，做好驻企服务，确保企业复工复产“不掉链、不断档”，全力夺取疫情防控和经济社会发展“双胜利”。
"""
QINGTIAN_QUESTION = "截至4月2日青田县有多少家规上企业复工？"

LONGQUAN = "龙泉青瓷.txt"
LONGQUAN_TITLE = "龙泉青瓷小镇重新开放"
LONGQUAN_TEXT = f"""{LONGQUAN_TITLE}

本报讯 经过一个多月的闭馆，龙泉青瓷小镇于3月28日起有序恢复开放，游客需出示健康码并全程佩戴口罩，景区每日限流两千人次。

小镇内的青瓷传统技艺展示馆同步开馆，十余位青瓷艺人轮流现场拉坯、施釉，吸引了不少周边游客前来参观。

景区负责人表示，将根据疫情防控形势适时调整限流措施，并推出线上预约、分时段游览等服务，让游客安心、放心游览。
"""


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def library_settings(tmp_path_factory, embedder):
    """A copy of seeds/ indexed once for this module, with writes enabled by an API token."""
    from qa.index.local.writer import build_index
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("library-corpus")
    for path in SEEDS.iterdir():
        if path.suffix in (".txt", ".json"):
            shutil.copy(path, corpus / path.name)
    settings = Settings(
        index_dir=tmp_path_factory.mktemp("library-index"), corpus_dir=corpus, api_token=TOKEN
    )
    build_index(corpus, settings, embedder, progress=False)
    return settings


@pytest.fixture(scope="module")
def library_url(library_settings):
    with live_server(library_settings) as url:
        yield url


@pytest.fixture
def library_page(browser, library_url):
    with checked_page(browser, library_url) as page:
        yield page


# ----------------------------------------------------------------- helpers


def open_library(page):
    page.get_by_role("button", name="资料库").click()
    panel = page.get_by_test_id("library-panel")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("library-toggle")).to_have_attribute("aria-expanded", "true")
    return panel


def documents(page):
    return page.get_by_test_id("document-item")


def document(page, name: str):
    return page.locator(f'[data-testid="document-item"][data-doc="{name}"]')


def upload(page, *files: tuple[str, str]):
    page.get_by_test_id("upload-input").set_input_files(
        [{"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")} for name, text in files]
    )


def hold_writes(page) -> list:
    """Hold every PUT/DELETE of a document until the test lets it go; reads pass through."""
    held: list = []

    def handle(route):
        if route.request.method in ("PUT", "DELETE"):
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/documents/*", handle)
    return held


def wait_for_held(page, held: list, count: int):
    for _ in range(400):
        if len(held) >= count:
            break
        page.wait_for_timeout(25)
    assert len(held) == count, f"expected {count} held writes, got {len(held)}"


def indexed(item) -> tuple[int, int]:
    """(chunks, embedded) from an upload row's "已索引：N 段，新嵌入 E 段"."""
    expect(item).to_contain_text("已索引：", timeout=180_000)
    found = re.search(r"已索引：(\d+) 段，新嵌入 (\d+) 段", item.inner_text())
    assert found, item.inner_text()
    return int(found.group(1)), int(found.group(2))


def session_token(page):
    return page.evaluate(
        "() => [sessionStorage.getItem('wenyuan.token'), localStorage.getItem('wenyuan.token')]"
    )


# ------------------------------------------------------------------- tests


def test_upload_ask_and_delete_through_the_panel(library_page):
    page = library_page
    OUTPUT.mkdir(exist_ok=True)
    open_library(page)

    # The list: five seed pages with headline, date and chunk count.
    expect(documents(page)).to_have_count(SEED_COUNT)
    for item in documents(page).all():
        expect(item.get_by_test_id("document-title")).not_to_have_text("")
        expect(item).to_contain_text(re.compile(r"\d+ 段"))
    expect(document(page, "000_03be0d9acd7aceea.txt")).to_contain_text("2020-03")
    expect(document(page, "002_376477d7800202f4.txt")).to_contain_text("嘉兴日报·平湖版")
    expect(page.get_by_test_id("upload-disabled")).to_be_hidden()

    # Two files: the token is asked once, in the page, before anything is sent.
    held = hold_writes(page)
    upload(page, (QINGTIAN, QINGTIAN_TEXT), (LONGQUAN, LONGQUAN_TEXT))
    rows = page.get_by_test_id("upload-item")
    expect(rows).to_have_count(2)
    form = page.get_by_test_id("token-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("token-input")).to_be_focused()
    expect(rows.nth(0)).to_contain_text("等待访问令牌")
    assert held == []
    page.get_by_test_id("token-input").fill(TOKEN)
    page.get_by_test_id("token-submit").click()
    expect(form).to_be_hidden()
    assert session_token(page) == [TOKEN, None], "the token lives in sessionStorage only"

    # One file at a time, in order; the first shows an indeterminate bar and elapsed seconds.
    wait_for_held(page, held, 1)
    request = held[0].request
    assert request.url.endswith(
        "/api/documents/%E9%9D%92%E7%94%B0%E5%8E%BF%E5%A4%8D%E5%B7%A5%E5%A4%8D%E4%BA%A7.txt"
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "text/plain; charset=utf-8"
    assert request.post_data_buffer == QINGTIAN_TEXT.encode("utf-8"), "the file's raw bytes"
    expect(rows.nth(0).get_by_test_id("upload-progress")).to_be_visible()
    expect(rows.nth(0).get_by_role("progressbar")).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("正在索引… 1 秒", timeout=5_000)
    expect(rows.nth(1)).to_contain_text("等待上传")
    page.wait_for_timeout(300)
    assert len(held) == 1, "the second file waits for the first"
    held[0].continue_()

    chunks, embedded = indexed(rows.nth(0))
    assert chunks >= 3 and 1 <= embedded <= chunks
    expect(rows.nth(0).get_by_test_id("upload-progress")).to_be_hidden()
    wait_for_held(page, held, 2)
    assert held[1].request.url.endswith("/api/documents/%E9%BE%99%E6%B3%89%E9%9D%92%E7%93%B7.txt")
    held[1].continue_()
    indexed(rows.nth(1))
    page.unroute("**/api/documents/*")
    expect(form).to_be_hidden()  # the token was asked once for both files

    # The list refreshed: both new pages, with their headline and chunk count.
    expect(documents(page)).to_have_count(SEED_COUNT + 2)
    expect(document(page, QINGTIAN).get_by_test_id("document-title")).to_have_text(QINGTIAN_TITLE)
    expect(document(page, QINGTIAN)).to_contain_text(f"{chunks} 段")
    expect(document(page, QINGTIAN)).to_contain_text("新上传")
    expect(document(page, "000_03be0d9acd7aceea.txt")).not_to_contain_text("新上传")
    expect(document(page, LONGQUAN).get_by_test_id("document-title")).to_have_text(LONGQUAN_TITLE)
    expect(page.get_by_test_id("library-status")).to_contain_text("已索引")

    # A question asked right away is answered from the new page, with its citation.
    answer = ask(page, QINGTIAN_QUESTION)
    expect(answer.get_by_test_id("answer-text")).to_contain_text("1234")
    cited = answer.locator(f'[data-testid="source-card"].is-cited[data-doc="{QINGTIAN}"]')
    expect(cited.first).to_be_visible()
    expect(cited.first).to_contain_text(QINGTIAN_TITLE)
    assert no_horizontal_scroll(page)
    document(page, LONGQUAN).evaluate("el => el.scrollIntoView({block: 'end'})")
    page.screenshot(path=str(OUTPUT / "library-desktop.png"), animations="disabled")
    shutil.copy(OUTPUT / "library-desktop.png", ROOT / "docs" / "library.png")

    # Delete asks in the page first; cancel sends nothing.
    deletes = []
    page.on("request", lambda r: deletes.append(r.url) if r.method == "DELETE" else None)
    item = document(page, QINGTIAN)
    item.get_by_role("button", name=f"删除 {QINGTIAN_TITLE}").click()
    confirm = item.get_by_test_id("delete-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(QINGTIAN_TITLE)
    confirm.get_by_role("button", name="取消").click()
    expect(confirm).to_be_hidden()
    assert deletes == []

    item.get_by_test_id("document-delete").click()
    item.get_by_test_id("delete-confirm-button").click()
    expect(document(page, QINGTIAN)).to_have_count(0, timeout=60_000)
    expect(documents(page)).to_have_count(SEED_COUNT + 1)
    expect(page.get_by_test_id("library-status")).to_contain_text("已删除")
    assert len(deletes) == 1 and deletes[0].endswith(
        "/api/documents/%E9%9D%92%E7%94%B0%E5%8E%BF%E5%A4%8D%E5%B7%A5%E5%A4%8D%E4%BA%A7.txt"
    )

    # The deleted page is no longer cited.
    after = ask(page, QINGTIAN_QUESTION)
    expect(after.locator(f'[data-testid="source-card"][data-doc="{QINGTIAN}"]')).to_have_count(0)

    document(page, LONGQUAN).get_by_test_id("document-delete").click()
    document(page, LONGQUAN).get_by_test_id("delete-confirm-button").click()
    expect(documents(page)).to_have_count(SEED_COUNT, timeout=60_000)


def test_wrong_token_shows_the_401_message_and_asks_again(library_page):
    page = library_page
    open_library(page)
    expect(documents(page)).to_have_count(SEED_COUNT)

    upload(page, ("错误令牌.txt", QINGTIAN_TEXT))
    page.get_by_test_id("token-input").fill("not-the-token")
    with page.expect_response(lambda r: r.request.method == "PUT") as caught:
        page.get_by_test_id("token-submit").click()
    response = caught.value
    assert response.status == 401
    message = response.json()["error"]["message"]

    error = page.get_by_test_id("token-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("访问令牌不正确")
    expect(error).to_contain_text(message)
    expect(page.get_by_test_id("token-form")).to_be_visible()
    expect(page.get_by_test_id("upload-item")).to_contain_text("等待访问令牌")
    assert session_token(page) == [None, None], "a refused token is forgotten"

    page.get_by_role("button", name="取消").click()
    expect(page.get_by_test_id("upload-item")).to_contain_text("已取消")
    expect(page.get_by_test_id("token-form")).to_be_hidden()
    page.get_by_test_id("library-refresh").click()
    expect(documents(page)).to_have_count(SEED_COUNT)


def test_server_errors_are_shown_per_file(library_page):
    """A refusal other than 401 shows the server's message on the file's row and keeps the token."""
    page = library_page
    open_library(page)
    page.evaluate(f"() => sessionStorage.setItem('wenyuan.token', {TOKEN!r})")
    upload(page, ("空白.txt", "\n  \n"))
    row = page.get_by_test_id("upload-item")
    expect(row).to_have_class(re.compile("is-error"), timeout=60_000)
    assert re.search(r"\S", row.get_by_test_id("upload-state").inner_text())
    expect(page.get_by_test_id("token-form")).to_be_hidden()
    assert session_token(page) == [TOKEN, None]
    expect(documents(page)).to_have_count(SEED_COUNT)


def test_a_pdf_uploads_through_the_panel_and_is_cited_by_page(library_page, library_url, tmp_path):
    """A binary file goes up as it is; the library lists it and a search cites its page; a .csv is refused at once."""
    import httpx

    from tests import made_documents as made

    page = library_page
    open_library(page)
    page.evaluate(f"() => sessionStorage.setItem('wenyuan.token', {TOKEN!r})")
    made.two_columns(tmp_path / "page.pdf")
    page.get_by_test_id("upload-input").set_input_files(
        [
            {
                "name": "渔港.pdf",
                "mimeType": "application/pdf",
                "buffer": (tmp_path / "page.pdf").read_bytes(),
            },
            {"name": "表格.csv", "mimeType": "text/csv", "buffer": b"a,b\n"},
        ]
    )
    rows = page.get_by_test_id("upload-item")
    assert indexed(rows.nth(0))[0] >= 1
    expect(rows.nth(1)).to_have_class(re.compile("is-error"))
    expect(rows.nth(1)).to_contain_text(".pdf")
    expect(document(page, "渔港.pdf")).to_be_visible(timeout=60_000)
    hits = httpx.post(
        f"{library_url}/api/search",
        json={"question": "乍浦镇渔港码头新建泊位可同时停靠多少艘渔船", "k": 5},
        timeout=60,
    ).json()["hits"]
    cited = next(h["citation"] for h in hits if h["citation"]["doc"] == "渔港.pdf")
    assert cited["format"] == "pdf" and cited["page_start"] == 1
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (
        httpx.delete(f"{library_url}/api/documents/渔港.pdf", headers=headers, timeout=180).status_code == 200
    )


def test_phone_layout(browser, library_url):
    page = open_page(browser, library_url, PHONE)
    try:
        panel = open_library(page)
        expect(documents(page)).to_have_count(SEED_COUNT)
        box = panel.bounding_box()
        assert box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1, (
            "on a phone the library opens as a full-screen overlay"
        )
        expect(page.get_by_test_id("upload-button")).to_be_visible()
        first = documents(page).first
        first.get_by_test_id("document-delete").click()
        expect(first.get_by_test_id("delete-confirm")).to_be_visible()
        assert no_horizontal_scroll(page)
        page.screenshot(path=str(OUTPUT / "library-phone.png"), animations="disabled")
        first.get_by_role("button", name="取消").click()
        page.get_by_role("button", name="关闭资料库").click()
        expect(panel).to_be_hidden()
        expect(page.get_by_test_id("library-toggle")).to_be_focused()
        assert not page.js_errors, page.js_errors
    finally:
        page.context.close()


def test_uploads_disabled_without_a_server_token(browser, library_settings):
    with live_server(library_settings.model_copy(update={"api_token": None})) as url:
        page = open_page(browser, url)
        try:
            open_library(page)
            expect(documents(page)).to_have_count(SEED_COUNT)
            expect(page.get_by_test_id("upload-disabled")).to_be_visible()
            expect(page.get_by_test_id("upload-disabled")).to_contain_text("WENYUAN_API_TOKEN")
            expect(page.get_by_test_id("upload-button")).to_be_hidden()
            expect(page.get_by_test_id("document-delete")).to_have_count(0)
            assert not page.js_errors, page.js_errors
        finally:
            page.context.close()


@local_only  # the bar fills with the local writer's counts
def test_the_panel_follows_a_write_job_and_shows_the_corpus_catching_up(
    browser, small_corpus, tmp_path, embedder
):
    """A server that finds a document in its folder that its build lacks, and answers every write 202 at once."""
    from tests.conftest import built
    from tests.write_load import big_document

    settings = built(
        small_corpus, embedder, index_dir=tmp_path / "index", api_token=TOKEN, document_write_hold_s=0
    )
    leftover = "断电前上传.txt"  # as a crash mid-upload leaves it: in the folder, not in the build
    (small_corpus / leftover).write_text(big_document(40, "断"), encoding="utf-8")
    with live_server(settings) as url:
        page = open_page(browser, url)
        try:
            open_library(page)
            state = page.get_by_test_id("corpus-state")
            expect(state).to_have_attribute("data-state", "updating")
            expect(state).to_contain_text("1 份文档尚未索引")
            expect(state).to_have_attribute("data-state", "in_sync", timeout=180_000)
            expect(state).to_contain_text("索引与资料文件夹一致")
            expect(document(page, leftover)).to_have_count(1)  # the list reloads once the folder is indexed

            page.evaluate(f"() => sessionStorage.setItem('wenyuan.token', {TOKEN!r})")
            with page.expect_response(lambda r: r.request.method == "PUT") as caught:
                upload(page, ("长篇专题.txt", big_document(20, "长")))
            assert caught.value.status == 202 and caught.value.headers["location"].startswith("/api/jobs/")
            row = page.get_by_test_id("upload-item")
            expect(row).to_contain_text(
                re.compile(r"正在索引：嵌入(段落|句子) \d+/\d+ · \d+% · [\d.]+ 条/秒 · 约剩 (\d+分)?\d+秒"),
                timeout=120_000,
            )
            expect(row.get_by_test_id("upload-progress")).to_have_class(re.compile("is-determinate"))
            chunks, embedded = indexed(row)
            assert chunks >= 10 and embedded == chunks
            expect(document(page, "长篇专题.txt")).to_have_count(1)
            page.screenshot(path=str(OUTPUT / "library-job.png"), animations="disabled")
            assert not page.js_errors, page.js_errors
        finally:
            page.context.close()
