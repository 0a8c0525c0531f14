"""Chunking on the real seed pages: break repair, titles, page furniture as chunks of its own, exact spans."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from qa.ingest.chunking import CHUNKER_VERSION, ChunkingConfig, chunk_corpus, chunk_document
from qa.ingest.corpus import load_corpus
from qa.ingest.layout import FURNITURE_TITLES
from qa.models import Chunk, Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DOCS = {d.name: d for d in load_corpus(SEEDS).documents}
CHUNKS = chunk_corpus(list(DOCS.values()))


def _doc(prefix: str) -> Document:
    return next(d for name, d in DOCS.items() if name.startswith(prefix))


def _of(prefix: str) -> list[Chunk]:
    return [c for c in CHUNKS if c.doc.startswith(prefix)]


def _holding(needle: str, chunks: list[Chunk] = CHUNKS) -> Chunk:
    found = [c for c in chunks if needle in c.text]
    assert len(found) == 1, f"{needle!r} in {len(found)} chunks"
    return found[0]


def _titles(prefix: str) -> list[str]:
    seen: dict[int, str] = {}
    for c in _of(prefix):
        seen.setdefault(c.article, c.title)
    return [seen[k] for k in sorted(seen)]


def assert_span_rule(doc: Document, chunk: Chunk) -> None:
    span = doc.text[chunk.start : chunk.end]
    assert chunk.text and chunk.text == chunk.text.strip()
    assert span[0] == chunk.text[0] and span[-1] == chunk.text[-1]
    i = 0
    for ch in span:
        if i < len(chunk.text) and ch == chunk.text[i]:
            i += 1
        else:
            assert ch.isspace(), f"{chunk.doc}@{chunk.start}: dropped non-space {ch!r}"
    assert i == len(chunk.text), f"{chunk.doc}@{chunk.start}: text is not a subsequence of its span"


def test_break_inside_sentence_is_repaired() -> None:
    chunk = _holding("要继续盯牢发展指数。坚持一线服务")
    assert chunk.line_start == 19 and chunk.line_end == 21
    assert "\n" not in chunk.text


@pytest.mark.parametrize(
    "needle", ["目前已到岗32人,3月3日", "供粮近150天、储备油充足", "网络宣传新穎又给力", "‘亮码一扫 码一测"]
)
def test_break_inside_word_or_number_is_repaired(needle: str) -> None:
    _holding(needle)


def test_required_health_code_chunk() -> None:
    chunk = _holding("64.24%")
    assert chunk.title == "庆元“健康码”申领率 全市第一"
    assert chunk.doc == "000_03be0d9acd7aceea.txt"
    assert chunk.text.startswith("本报讯 自“丽水健康码”推行以来")
    assert chunk.text.endswith("申领率64.24%,排名全市第一。")
    assert chunk.paragraph == 1


@pytest.mark.parametrize(
    "prefix, expected",
    [
        (
            "000",
            [
                "盯牢管控指数、发展指数 双管齐下严防输入",
                "衢宁铁路庆元段抢时间抓复工",
                "庆元“健康码”申领率 全市第一",
                "庆元县复工复产中的“山海协作”力量",
            ],
        ),
        (
            "001",
            [
                "拧紧疫情防控“安全阀” 按下绿色发展“快进键”",
                "聚焦聚力“两确保三争取” 坚定坚决打赢两场战役",
                "遂昌“五大战术”迎战新冠肺炎疫情",
            ],
        ),
        (
            "002",
            [
                "张兵赴我市检查指导疫情防控工作",
                "坚决守好“外防输入”防线 全力打赢疫情防控持久战",
                "我市八成规上企业复工复产",
                "我市进一步调整“三区”范围",
                "广告",
                "天气预报",
                "守好入平大门",
                "闭环管理催生的硬策略",
                "14个“临时党支部”的温暖故事",
            ],
        ),
        (
            "003",
            [
                "报头",
                "车俊在丽水督查疫情防控和复工复产工作时强调 以深化“三服务”保防控保民生保发展",
                "严而又严细而又细 落实各项防控工作",
            ],
        ),
    ],
)
def test_article_titles(prefix: str, expected: list[str]) -> None:
    assert _titles(prefix) == expected


def test_titles_of_004_including_photo_captions() -> None:
    titles = _titles("004")
    assert titles[:7] == [
        "构筑“三道防线” 坚决把疫情阻挡在县域之外",
        "孙红伟督导检查疫情防控工作",
        "孙红伟主持召开疫情防控工作研判调度会",
        "扶沟举行第四期“三个一批”活动",
        "孙红伟调研城建项目推进情况",
        "扶沟召开“人人持证、技能河南”建设工作推进会",
        "扶沟农商银行:多措并举推动能力作风建设见行见效",
    ]
    assert _holding("天宫课堂").title != titles[6], "a photo caption is not part of the bank story"
    assert titles[-1] == "听卢俊华讲述战“疫”故事"


def test_sub_and_section_headings_are_not_titles_but_stay_in_text() -> None:
    titles = {c.title for c in CHUNKS}
    for sub in [
        "庆元县应对新冠肺炎疫情防控工作指挥部每日研判会召开",
        "往返 3200 余公里接 26 名员工返岗",
        "胡海峰、吴晓东陪同督查",
        "吴晓东在检查集中隔离点安置情况时强调",
        "6个重点项目集中开工",
        "未雨绸缪,紧抓疫情防控同时提前谋划复工复产",
        "广泛发动 筑牢在外人员思想防线",
        "【第2计】闭环管理",
    ]:
        assert sub not in titles
    assert _holding("未雨绸缪,紧抓疫情防控同时提前谋划复工复产").text.endswith("这场人民战争。")
    assert _holding("数字赋能 织密智控防线\n\n在县新冠肺炎疫情应急指挥中心").title.startswith("构筑")
    assert _holding("【第2计】闭环管理\n\n【谋略】").title == "闭环管理催生的硬策略"
    assert not any(c.text in {"数字赋能 织密智控防线", "阅读提示", "一手抓疫情防控"} for c in CHUNKS)


def test_bylines_and_continuation_markers_are_dropped() -> None:
    byline = re.compile(r"^(?:[□■]|(?:记者|通讯员|摄影)\s)")
    for chunk in CHUNKS:
        assert not byline.match(chunk.text), chunk.text[:30]
        for noise in ["□ 通讯员", "■", "(上接第一版)", "记者 章建辉 摄", "记者 傅长琪", "记者 曹俊杰"]:
            assert noise not in chunk.text, (noise, chunk.doc, chunk.start)
    assert _holding("县委书记张壮雄在汇报中").text.startswith("县委书记张壮雄")
    assert _doc("001").text[_holding("县委书记张壮雄在汇报中").start - 7 :].startswith("(上接第一版)")


@pytest.mark.parametrize(
    "needle, title, text",
    [
        (
            "招生热线:85087171",
            "广告",
            "嘉兴市交通学校\n\n地址:平湖市当湖街道乍王线大胜段88号(吾悦广场南侧)\n\n"
            "诚信、廉教、优质服务是我们永远的追求!\n\n招生热线:85087171 驾培85087979 全日制",
        ),
        (
            "最高气温19℃",
            "天气预报",
            "友情提醒:关注天气,注意交通安全\n\n今天阴有阵雨或雷雨,雨量中到大雨,局部短时暴雨。"
            "明天阴到多云,东南风5到6级,阵风7级,沿海6到7级,阵风8级。今天白天最高气温19℃,明天早晨最低气温13℃。",
        ),
    ],
    ids=["school-ad", "weather"],
)
def test_ads_and_weather_are_chunks_of_their_own_titled_by_what_they_are(
    needle: str, title: str, text: str
) -> None:
    chunk = _holding(needle)
    assert (chunk.title, chunk.paragraph, chunk.text) == (title, 1, text)
    assert DOCS[chunk.doc].text[chunk.start : chunk.end] == text


def test_masthead_with_issue_number_is_titled_报头_without_its_latin_lines() -> None:
    name, issue = _holding("丽水市人民政府公报"), _holding("总第176期")
    assert (name.title, name.paragraph, name.text) == ("报头", 1, "丽水市人民政府公报")
    assert (issue.title, issue.paragraph, issue.text, issue.article) == (
        "报头",
        2,
        "2020\n\n第3期(总第176期)",
        name.article,
    )
    assert name.article == 0 and issue.doc == name.doc == _doc("003").name


def test_furniture_stays_out_of_article_chunks_and_latin_or_tiny_furniture_is_dropped() -> None:
    for noise in ["嘉兴市交通学校", "招生热线", "友情提醒", "最高气温", "丽水市人民政府公报", "总第176期"]:
        holders = [c for c in CHUNKS if noise in c.text]
        assert holders and all(c.title in FURNITURE_TITLES for c in holders), noise
    for dropped in ["平湖版", "JIAXING DAILY", "GAZETTE", "LISHUI"]:
        assert not any(dropped in c.text for c in CHUNKS), dropped


def test_article_chunks_are_unchanged_by_furniture() -> None:
    """Pinned from the chunker before furniture was indexed (134 chunks, same texts, spans and titles)."""
    rows = [
        [c.doc, c.title, c.paragraph, c.start, c.end, c.text]
        for c in CHUNKS
        if c.title not in FURNITURE_TITLES
    ]
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
    assert len(rows) == 134
    assert digest == "ceb0a06424fa23e64e8eccd279923f3c7c5b528b60bc4266aa095d9ea64ada00"
    assert len(CHUNKS) - len(rows) == 4


def test_page_numbers_latin_lines_and_edition_labels_are_not_chunks_but_the_year_is() -> None:
    text = (
        "A1\n\n示例市人民政府公报\n\nEXAMPLE GAZETTE\n\n2022\n\n第5期(总第99期)\n\n示例标题\n\n"
        "本报讯 这是一段正文。\n\n7\n\n城东版\n"
    )
    chunks = chunk_document(Document("page.txt", text, "utf-8"))
    assert [(c.article, c.paragraph, c.title, c.text) for c in chunks] == [
        (0, 1, "报头", "示例市人民政府公报"),
        (0, 2, "报头", "2022\n\n第5期(总第99期)"),
        (1, 1, "示例标题", "本报讯 这是一段正文。"),
    ]


def test_content_captions_are_kept() -> None:
    assert _holding("天宫课堂").title == "图片说明"
    assert _holding("平湖南高速出口处").title == "守好入平大门"


def test_every_span_round_trips_for_all_seeds() -> None:
    assert {c.doc for c in CHUNKS} == set(DOCS)
    for chunk in CHUNKS:
        assert_span_rule(DOCS[chunk.doc], chunk)


def test_line_numbers_agree_with_offsets() -> None:
    for c in CHUNKS:
        text = DOCS[c.doc].text
        assert c.line_start == text.count("\n", 0, c.start) + 1
        assert c.line_end == text.count("\n", 0, c.end - 1) + 1
        lines = text.splitlines(keepends=True)
        first_line_at = sum(len(line) for line in lines[: c.line_start - 1])
        assert first_line_at <= c.start < first_line_at + len(lines[c.line_start - 1])
        assert c.text[-1] in lines[c.line_end - 1]


def test_numbering_is_contiguous_and_in_reading_order() -> None:
    by_article: dict[tuple[str, int], list[Chunk]] = defaultdict(list)
    for c in CHUNKS:
        by_article[(c.doc, c.article)].append(c)
    for doc in DOCS:
        articles = sorted(a for d, a in by_article if d == doc)
        assert articles == list(range(len(articles)))
    for group in by_article.values():
        assert [c.paragraph for c in group] == list(range(1, len(group) + 1))
        assert len({c.title for c in group}) == 1
    for doc in DOCS:
        starts = [c.start for c in CHUNKS if c.doc == doc]
        assert starts == sorted(starts)


def test_size_bounds_and_merging() -> None:
    lengths = [len(c.text) for c in CHUNKS]
    assert max(lengths) <= 512
    assert _holding("仪式结束后").text.endswith(
        "参加开工仪式。\n\n仪式结束后,县四个班子领导集中对扶沟“三个一批”投产项目进行实地调研观摩。"
    )
    long_para = _holding("眼下正是春茶采摘时节")
    assert len(long_para.text) <= 400 and _holding("当听说当地还缺采茶工时").start == long_para.end + 0
    short = [c for c in CHUNKS if len(c.text) < 60 and c.title not in FURNITURE_TITLES]
    assert all(c.text.startswith("衢宁铁路庆元段维修工区") for c in short), [c.text for c in short]


def test_small_limits_force_hard_splits_that_still_round_trip() -> None:
    config = ChunkingConfig(min_chars=0, split_chars=80, max_chars=100)
    for doc in DOCS.values():
        chunks = chunk_document(doc, config)
        assert chunks and all(len(c.text) <= 100 for c in chunks)
        for c in chunks:
            assert_span_rule(doc, c)


def test_merging_never_crosses_articles() -> None:
    config = ChunkingConfig(min_chars=10_000, split_chars=10_000, max_chars=10_000)
    for doc in DOCS.values():
        chunks = chunk_document(doc, config)
        titles = {c.title for c in chunks}
        assert len({c.article for c in chunks}) == len({c.article for c in chunk_document(doc)})
        for c in chunks:
            span = doc.text[c.start : c.end]
            assert not any(t in span for t in titles - {c.title} if len(t) > 6), c.title


def test_crlf_file_gives_same_chunks_with_exact_offsets() -> None:
    lf = _doc("000")
    crlf = Document(lf.name, lf.text.replace("\n", "\r\n"), "utf-8")
    a, b = chunk_document(lf), chunk_document(crlf)
    assert [c.text for c in a] == [c.text.replace("\r\n", "\n") for c in b]
    assert [(c.title, c.line_start, c.line_end) for c in a] == [
        (c.title, c.line_start, c.line_end) for c in b
    ]
    for c in b:
        assert_span_rule(crlf, c)
    assert "坚持一线服务" in _holding("要继续盯牢发展指数。坚", b).text


def test_pure_and_versioned() -> None:
    doc = _doc("002")
    assert chunk_document(doc) == chunk_document(doc)
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION
    with pytest.raises(AttributeError):
        ChunkingConfig().max_chars = 1  # type: ignore[misc]


def test_chunk_ids_follow_document_and_text_not_position():
    from qa.ingest.chunking import ChunkingConfig, chunk_document
    from qa.models import Document

    unmerged = ChunkingConfig(min_chars=0)
    first = "本报讯 截至4月2日，青田县已有1234家规上工业企业复工，复工率达到百分之九十六点五，员工返岗人数超过三万二千人。"
    second = "在青田县油竹街道的一家阀门企业，生产车间里机器轰鸣，工人们正在有序作业，二百多名外地员工已通过包车方式全部返岗。"
    inserted = "县经信局相关负责人介绍，全县建立了企业复工服务专班，为企业提供防疫物资、员工返岗、原料供应等一站式服务。"

    def ids(name: str, *paragraphs: str) -> dict[str, str]:
        chunks = chunk_document(
            Document(name, "青田县复工\n\n" + "\n\n".join(paragraphs) + "\n", "utf-8"), unmerged
        )
        assert len(chunks) == len(paragraphs)
        return {c.text: c.id for c in chunks}

    before = ids("a.txt", first, second)
    after = ids("a.txt", inserted, first, second)
    assert after[first] == before[first] and after[second] == before[second], "moving down keeps the id"
    assert len(set(after.values())) == 3 and all(len(i) == 16 and int(i, 16) < 2**63 for i in after.values())
    assert ids("b.txt", first, second)[first] != before[first], (
        "the same paragraph in another document is another chunk"
    )
    twice = chunk_document(
        Document("c.txt", "青田县复工\n\n" + first + "\n\n" + second + "\n\n" + first + "\n", "utf-8"),
        unmerged,
    )
    assert len({c.id for c in twice}) == 3, "a paragraph repeated within a document gets two ids"
