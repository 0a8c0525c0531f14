"""A live corpus on the real index and server: add, replace and remove documents without a restart.

One module server over a copy of the seeds, with a write token; each test adds
documents of its own names and removes them again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from qa.settings import MODES
from tests.conftest import ROOT, SEEDS, STORE, assert_error, built, live_server

QA = str(ROOT / ".venv" / "bin" / "qa")
TOKEN = "live-corpus-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
WAIT = 180

HEADLINE = "青田县企业复工复产按下“快进键”"
FACT = (
    "截至4月2日，青田县已有1234家规上工业企业复工，复工率达到百分之九十六点五，员工返岗人数超过三万二千人。"
)
MIDDLE = (
    "在青田县油竹街道的一家阀门企业，生产车间里机器轰鸣，工人们正在有序作业。企业负责人说，在专班帮助下，"
    "企业的二百多名外地员工已通过包车方式全部返岗，订单交付基本没有受到影响。"
)
OLD_ONLY = (
    "青田县还出台了稳企业十条措施，对复工企业给予用电、租金、贷款贴息等方面的支持，目前已为企业减免各类费用一千二百余万元。"
    "县财政同时安排专项资金，用于补助企业包车接回外地员工。"
)
NEW_FACT = "截至4月9日，青田县规上工业企业已全部复工，共计1302家，员工返岗人数超过三万六千人。"


def page(*paragraphs: str, headline: str = HEADLINE) -> str:
    return "\n\n".join([headline, *paragraphs]) + "\n"


V1 = page(
    "本报讯 " + FACT + "县经信局相关负责人介绍，全县建立了企业复工服务专班，为企业提供一站式服务。",
    MIDDLE,
    OLD_ONLY,
)
V2 = page(
    "本报讯 " + NEW_FACT + "县经信局相关负责人介绍，全县建立了企业复工服务专班，为企业提供一站式服务。",
    MIDDLE,
)


@dataclass(frozen=True)
class Live:
    url: str
    corpus: Path
    index_dir: Path

    def put(self, name: str, text: str, **kw) -> httpx.Response:
        return httpx.put(
            f"{self.url}/api/documents/{name}",
            content=text.encode("utf-8"),
            headers={**AUTH, **TEXT},
            timeout=WAIT,
            **kw,
        )

    def delete(self, name: str) -> httpx.Response:
        return httpx.delete(f"{self.url}/api/documents/{name}", headers=AUTH, timeout=WAIT)

    def search(self, question: str, mode: str = "hybrid", k: int = 10) -> dict:
        resp = httpx.post(
            f"{self.url}/api/search", json={"question": question, "mode": mode, "k": k}, timeout=WAIT
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def chat(self, question: str) -> dict:
        resp = httpx.post(
            f"{self.url}/api/chat", json={"messages": [{"role": "user", "content": question}]}, timeout=WAIT
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def health(self) -> dict:
        return httpx.get(f"{self.url}/api/health", timeout=WAIT).json()

    def state(self) -> tuple[str, list[str], bytes]:
        """What a refused write must leave alone: the served build, the corpus files, the metadata."""
        files = sorted(p.name for p in self.corpus.iterdir())
        return self.health()["build"], files, (self.corpus / "metadata.json").read_bytes()


@pytest.fixture(scope="module")
def live(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("live")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = built(corpus, embedder, index_dir=root / "index", api_token=TOKEN, document_max_bytes=200_000)
    with live_server(settings) as url:
        yield Live(url, corpus, settings.index_dir)


def docs_hit(result: dict) -> set[str]:
    return {h["citation"]["doc"] for h in result["hits"]}


def test_add_replace_delete_a_document(live):
    before = live.health()
    resp = live.put("qingtian.txt", V1)
    assert resp.status_code == 201, resp.text
    added = resp.json()
    assert set(added) == {"doc", "chunks", "embedded", "reused", "took_ms", "build"}
    assert added["doc"] == "qingtian.txt" and added["chunks"] >= 2
    assert added["embedded"] == added["chunks"] and added["reused"] == 0, "only the new document is embedded"
    health = live.health()
    assert (
        health["build"] == added["build"] != before["build"]
        and health["chunks"] == before["chunks"] + added["chunks"]
    )

    answer = live.chat("截至4月2日青田县有多少家规上工业企业复工？")
    assert not answer["abstained"] and "1234家" in answer["answer"], answer["answer"]
    cited = answer["citations"][0]
    assert cited["doc"] == "qingtian.txt" and cited["title"] == HEADLINE
    source = (live.corpus / "qingtian.txt").read_text(encoding="utf-8")
    assert FACT in source[cited["start"] : cited["end"]], "the citation's offsets hold the quoted sentence"
    assert source.count("\n", 0, cited["start"]) + 1 == cited["line_start"]

    again = live.put("qingtian.txt", V1)
    assert again.status_code == 200, again.text
    assert again.json() | {"took_ms": 0} == added | {"took_ms": 0, "embedded": 0, "reused": added["chunks"]}
    assert live.health()["build"] == added["build"], "the same text again makes no new build"

    resp = live.put("qingtian.txt", V2)
    assert resp.status_code == 200, resp.text
    replaced = resp.json()
    assert replaced["reused"] >= 1 and replaced["embedded"] == replaced["chunks"] - replaced["reused"]
    assert replaced["embedded"] >= 1, "the changed paragraph is embedded again"
    for mode in MODES:
        for question in (
            OLD_ONLY,
            "青田县稳企业十条措施减免了多少费用",
            "截至4月2日青田县有多少家规上工业企业复工",
        ):
            for hit in live.search(question, mode)["hits"]:
                assert "稳企业十条" not in hit["text"] and "1234家" not in hit["text"], (mode, hit)
    answer = live.chat("青田县规上工业企业复工了多少家？")
    assert "1302家" in answer["answer"] and answer["citations"][0]["doc"] == "qingtian.txt"

    resp = live.delete("qingtian.txt")
    assert resp.status_code == 200, resp.text
    removed = resp.json()
    assert removed["chunks"] == replaced["chunks"] and removed["embedded"] == 0
    for mode in MODES:
        for question in (NEW_FACT, MIDDLE, "青田县阀门企业员工返岗"):
            assert "qingtian.txt" not in docs_hit(live.search(question, mode)), mode
    assert_error(httpx.get(f"{live.url}/api/documents/qingtian.txt"), 404, "unknown_document")
    assert "qingtian.txt" not in [
        d["doc"] for d in httpx.get(f"{live.url}/api/documents").json()["documents"]
    ]
    assert not (live.corpus / "qingtian.txt").exists()
    assert live.health()["chunks"] == before["chunks"]


def test_a_paragraph_inserted_above_moves_the_citations_below_it(live):
    """Unchanged paragraphs keep their ids and vectors, but their offsets and line numbers follow the new text."""
    name = "shifted.txt"
    assert live.put(name, V1).status_code == 201
    inserted = (
        "本报讯 青田县复工复产专班今日召开第三次例会，通报近期企业用工和物流保障情况，并部署下一阶段工作。"
    )
    first = "本报讯 " + FACT + "县经信局相关负责人介绍，全县建立了企业复工服务专班，为企业提供一站式服务。"
    assert V1 == page(first, MIDDLE, OLD_ONLY)
    resp = live.put(name, page(inserted, first, MIDDLE, OLD_ONLY))
    assert resp.status_code == 200, resp.text
    assert resp.json()["reused"] >= 2, "the paragraphs below the new one are not embedded again"
    source = (live.corpus / name).read_text(encoding="utf-8")
    for question in ("青田县阀门企业外地员工包车返岗", OLD_ONLY):
        hits = [h for h in live.search(question, "hybrid", k=5)["hits"] if h["citation"]["doc"] == name]
        assert hits, question
        for hit in hits:
            c = hit["citation"]
            assert source[c["start"] : c["end"]].startswith(hit["text"][:30]), (question, c)
            assert source.count("\n", 0, c["start"]) + 1 == c["line_start"], (question, c)
    assert live.delete(name).status_code == 200


def test_the_same_paragraph_in_two_documents_keeps_both_citations(live):
    shared = (
        "丽水市青田县侨乡进口商品城于3月16日恢复营业，首日接待市民和游客两千余人次，商户开业率达到百分之八十。"
        "商品城实行预约限流，每小时入场不超过五百人。"
    )
    first = live.put(
        "shared_a.txt",
        page(
            shared,
            "其余内容各不相同，这是甲报的第二段报道，介绍了商品城的防疫措施和测温登记流程，以及商户每日两次的环境消杀安排和台账。所有入场人员须出示健康码并佩戴口罩。",
            headline="侨乡进口商品城恢复营业",
        ),
    )
    second = live.put(
        "shared_b.txt",
        page(
            shared,
            "乙报的第二段则讲述了商户们复工后的经营情况，以及线上直播带货的新尝试和销售额，一位商户说第一周就卖出了三百多单红酒。商品城管理方表示将继续减免商户租金。",
            headline="侨乡进口商品城恢复营业",
        ),
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert second.json()["reused"] >= 1, "the shared paragraph's vector is taken over, not embedded twice"
    try:
        for mode in MODES:
            hits = [h for h in live.search(shared, mode)["hits"] if h["text"] == shared]
            assert {h["citation"]["doc"] for h in hits} == {"shared_a.txt", "shared_b.txt"}, mode
            assert len({h["chunk_id"] for h in hits}) == 2
        assert live.delete("shared_a.txt").status_code == 200
        for mode in MODES:
            assert docs_hit(live.search(shared, mode)) & {"shared_a.txt", "shared_b.txt"} == {
                "shared_b.txt"
            }, mode
    finally:
        live.delete("shared_a.txt")
        live.delete("shared_b.txt")


def test_two_uploads_at_once_both_land(live):
    names = ("lishui_a.txt", "lishui_b.txt")
    texts = (V1.replace("青田县", "莲都区"), V1.replace("青田县", "龙泉市"))
    results: dict[str, httpx.Response] = {}
    threads = [
        threading.Thread(target=lambda n=n, t=t: results.__setitem__(n, live.put(n, t)))
        for n, t in zip(names, texts)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert [results[n].status_code for n in names] == [201, 201], [r.text for r in results.values()]
        assert results[names[0]].json()["build"] != results[names[1]].json()["build"], "one after the other"
        listed = {d["doc"] for d in httpx.get(f"{live.url}/api/documents").json()["documents"]}
        assert set(names) <= listed
        for n, place in zip(names, ("莲都区", "龙泉市")):
            assert n in docs_hit(live.search(f"{place}有多少家规上工业企业复工"))
    finally:
        for n in names:
            live.delete(n)


def test_json_upload_with_metadata_and_a_gb18030_upload(live):
    body = {
        "text": V1.replace("青田县", "景宁县"),
        "metadata": {"publication": "景宁报", "date": "2020-04", "url": "https://example.org/jn"},
    }
    resp = httpx.put(f"{live.url}/api/documents/jingning.txt", json=body, headers=AUTH, timeout=WAIT)
    assert resp.status_code == 201, resp.text
    gb = V1.replace("青田县", "云和县").encode("gb18030")
    resp = httpx.put(
        f"{live.url}/api/documents/yunhe.txt",
        content=gb,
        headers={**AUTH, "Content-Type": "text/plain"},
        timeout=WAIT,
    )
    assert resp.status_code == 201, resp.text
    try:
        hit = next(
            h
            for h in live.search("景宁县有多少家规上工业企业复工")["hits"]
            if h["citation"]["doc"] == "jingning.txt"
        )
        assert (
            hit["citation"]["publication"] == "景宁报" and hit["citation"]["url"] == "https://example.org/jn"
        )
        assert (
            json.loads((live.corpus / "metadata.json").read_text(encoding="utf-8"))["jingning.txt"]["date"]
            == "2020-04"
        )
        assert (live.corpus / "yunhe.txt").read_bytes() == gb.decode("gb18030").encode("utf-8"), (
            "stored as UTF-8"
        )
        assert "yunhe.txt" in docs_hit(live.search("云和县有多少家规上工业企业复工"))
    finally:
        live.delete("jingning.txt")
        live.delete("yunhe.txt")
    assert "jingning.txt" not in json.loads((live.corpus / "metadata.json").read_text(encoding="utf-8"))


BAD_WRITES = [
    ("PUT", "q.txt", {**TEXT}, V1.encode(), 401, "unauthorized"),
    ("PUT", "q.txt", {**TEXT, "Authorization": "Bearer nope"}, V1.encode(), 401, "unauthorized"),
    ("PUT", "q.txt", {**TEXT, "Authorization": TOKEN}, V1.encode(), 401, "unauthorized"),
    (
        "DELETE",
        SEEDS.joinpath("metadata.json").name,
        {"Authorization": "Bearer nope"},
        b"",
        401,
        "unauthorized",
    ),
    ("PUT", "a%2Fb.txt", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    ("PUT", "..%2F..%2Fx.txt", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    ("PUT", "a%5Cb.txt", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    ("PUT", "a%00.txt", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    ("PUT", "notes.csv", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    (
        "PUT",
        "broken.pdf",
        {**AUTH, "Content-Type": "application/pdf"},
        b"%PDF-1.4 not really",
        422,
        "unreadable_document",
    ),
    ("PUT", "bad.docx", AUTH, b"PK\x03\x04 no zip", 422, "unreadable_document"),
    ("PUT", "heading.md", {**AUTH, **TEXT}, "# 青田县复工\n".encode(), 422, "no_indexable_text"),
    ("PUT", ".hidden.txt", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    ("PUT", "x" * 201 + ".txt", {**AUTH, **TEXT}, V1.encode(), 400, "invalid_document"),
    ("PUT", "big.txt", {**AUTH, **TEXT}, ("报道" * 60_000).encode(), 413, "payload_too_large"),
    ("PUT", "q.txt", {**AUTH, "Content-Type": "application/xml"}, V1.encode(), 415, "unsupported_media_type"),
    ("PUT", "q.txt", {**AUTH, **TEXT}, bytes(range(256)) * 4, 422, "unreadable_text"),
    ("PUT", "q.txt", {**AUTH, **TEXT}, "青田县复工\n".encode(), 422, "no_indexable_text"),
    ("PUT", "q.txt", {**AUTH, **TEXT}, b"   \n", 422, "unreadable_text"),
    ("PUT", "q.txt", {**AUTH, "Content-Type": "application/json"}, b'{"text": 5}', 422, "invalid_request"),
    (
        "PUT",
        "q.txt",
        {**AUTH, "Content-Type": "application/json"},
        json.dumps({"text": V1, "metadata": {"author": "x"}}).encode(),
        422,
        "invalid_request",
    ),
    ("PUT", "q.txt", {**AUTH, "Content-Type": "application/json"}, b"{not json", 400, "invalid_json"),
    ("DELETE", "never-there.txt", AUTH, b"", 404, "unknown_document"),
]


@pytest.mark.parametrize(
    "method,name,headers,body,status,code",
    BAD_WRITES,
    ids=[f"{c[4]}-{c[5]}-{i}" for i, c in enumerate(BAD_WRITES)],
)
def test_a_refused_write_changes_nothing(live, method, name, headers, body, status, code):
    before = live.state()
    resp = httpx.request(
        method, f"{live.url}/api/documents/{name}", content=body, headers=headers, timeout=WAIT
    )
    assert_error(resp, status, code)
    if status == 401:
        assert resp.headers["www-authenticate"] == "Bearer"
    assert live.state() == before


def test_writes_are_off_without_a_token(server_url):
    resp = httpx.put(
        f"{server_url}/api/documents/q.txt", content=V1.encode(), headers={**AUTH, **TEXT}, timeout=WAIT
    )
    assert_error(resp, 403, "writes_disabled")
    assert_error(
        httpx.delete(f"{server_url}/api/documents/{SEEDS.name}", headers=AUTH), 403, "writes_disabled"
    )
    assert httpx.get(f"{server_url}/api/health").json()["writes"] is False


def _qa_index(live: Live) -> dict:
    out = subprocess.run(
        [QA, "index", str(live.corpus), "--index-dir", str(live.index_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "WENYUAN_INDEX_LOCK_WAIT": "120"},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _served(live: Live, build: str) -> None:
    deadline = time.monotonic() + 60
    while live.health()["build"] != build:
        assert time.monotonic() < deadline, "the server did not follow the new build"
        time.sleep(0.2)


@pytest.mark.skipif(
    STORE == "milvus", reason="embedded milvus-lite is one process per file: a second process cannot write it"
)
def test_the_server_follows_builds_that_qa_index_commits(live):
    name = "songyang.txt"
    (live.corpus / name).write_text(V1.replace("青田县", "松阳县"), encoding="utf-8")
    try:
        report = _qa_index(live)
        assert report["documents"]["added"] == [name] and report["documents"]["removed"] == []
        assert report["documents"]["changed"] == [] and report["documents"]["unchanged"] >= 5
        assert report["embedded"] >= 2 and report["embedded"] + report["reused"] == report["chunks"]
        _served(live, report["build"])
        assert name in docs_hit(live.search("松阳县有多少家规上工业企业复工"))

        (live.corpus / name).write_text(V2.replace("青田县", "松阳县"), encoding="utf-8")
        report = _qa_index(live)
        assert report["documents"]["changed"] == [name] and report["documents"]["added"] == []
        _served(live, report["build"])
    finally:
        (live.corpus / name).unlink(missing_ok=True)
    report = _qa_index(live)
    assert report["documents"]["removed"] == [name] and report["embedded"] == 0
    assert report["sentences"]["embedded"] == 0
    _served(live, report["build"])
    for mode in MODES:
        assert name not in docs_hit(live.search("松阳县有多少家规上工业企业复工", mode))


def test_requests_during_live_swaps_all_succeed(live):
    questions = [
        "截至3月1日庆元县健康码申领率是多少",
        "平湖有多少家企业复工",
        "衢宁铁路庆元段目前已复工人数是多少",
    ]
    failures: list[str] = []
    answered = [0]
    stop = threading.Event()

    def ask(i: int) -> None:
        with httpx.Client(timeout=WAIT) as client:
            while not stop.is_set():
                path = "/api/chat" if i % 2 else "/api/search"
                q = questions[answered[0] % len(questions)]
                body = {"messages": [{"role": "user", "content": q}]} if i % 2 else {"question": q}
                try:
                    resp = client.post(live.url + path, json=body)
                    if resp.status_code != 200 or not resp.json().get("hits"):
                        failures.append(f"{resp.status_code} {resp.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                answered[0] += 1

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    builds = {live.health()["build"]}
    try:
        for _ in range(2):
            put = live.put("swap.txt", V1.replace("青田县", "缙云县"))
            assert put.status_code == 201, put.text
            deleted = live.delete("swap.txt")
            assert deleted.status_code == 200, deleted.text
            builds |= {put.json()["build"], deleted.json()["build"]}
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(builds) == 5 and answered[0] > 8
    assert not failures, failures[:5]


def test_upload_a_pdf_and_markdown_then_cite_and_serve_the_originals(live, tmp_path):
    """Binary bodies through PUT, citations into the original, GET …/source gives the very bytes back."""
    from tests import made_documents as made

    made.two_columns(tmp_path / "page.pdf")
    raw = (tmp_path / "page.pdf").read_bytes()
    resp = httpx.put(
        f"{live.url}/api/documents/渔港.pdf",
        content=raw,
        headers={**AUTH, "Content-Type": "application/pdf"},
        timeout=WAIT,
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["chunks"] >= 1
    hit = next(
        h
        for h in live.search("乍浦镇渔港码头新建泊位可同时停靠多少艘渔船")["hits"]
        if h["citation"]["doc"] == "渔港.pdf"
    )
    assert (
        hit["citation"]["format"] == "pdf" and hit["citation"]["page_start"] == 1 and hit["citation"]["boxes"]
    )
    source = httpx.get(f"{live.url}/api/documents/渔港.pdf/source", timeout=WAIT)
    assert source.status_code == 200 and source.content == raw
    assert source.headers["content-type"] == "application/pdf"
    markdown = made.MARKDOWN.format(right0=made.RIGHT[0], right1=made.RIGHT[1])
    resp = httpx.put(
        f"{live.url}/api/documents/notes.md",
        content=markdown.encode(),
        headers={**AUTH, **TEXT},
        timeout=WAIT,
    )
    assert resp.status_code == 201, resp.text
    hit = next(
        h for h in live.search("海鲜市场每天早上几点开始交易")["hits"] if h["citation"]["doc"] == "notes.md"
    )
    line = markdown.splitlines()[hit["citation"]["source_line_start"] - 1]
    assert hit["citation"]["format"] == "markdown" and line and line in markdown
    assert httpx.get(f"{live.url}/api/documents/notes.md/source", timeout=WAIT).text == markdown
    seed = httpx.get(
        f"{live.url}/api/documents/{SEEDS.joinpath('000_03be0d9acd7aceea.txt').name}/source", timeout=WAIT
    )
    assert seed.content == (live.corpus / "000_03be0d9acd7aceea.txt").read_bytes()
    assert_error(
        httpx.get(f"{live.url}/api/documents/never.pdf/source", timeout=WAIT), 404, "unknown_document"
    )
    assert_error(httpx.get(f"{live.url}/api/documents/..%2F..%2Fetc%2Fpasswd/source", timeout=WAIT), 400)
    for name in ("渔港.pdf", "notes.md"):
        assert live.delete(name).status_code == 200
