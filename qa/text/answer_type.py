"""What kind of fact a question asks for, and whether a sentence states one.

A sentence that repeats the question's words is not its answer unless it also
holds a fact of the kind asked for: a name for 谁, a figure for 多少, a date for
哪天. Both sides are regular expressions over the text (no tagger call), so
judging every candidate sentence of a query costs microseconds.
"""

from __future__ import annotations

import re
from typing import Literal

from qa.text.sentences import first_clause, last_clause

AnswerType = Literal["person", "number", "place", "date", "phrase"]
ANSWER_TYPES: tuple[str, ...] = ("person", "number", "place", "date", "phrase")

# First match wins: 哪天 asks for a date before 哪 asks for a place, 哪位 for a person.
_ASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("person", re.compile(r"谁|叫什么名字|哪位|何人|什么人|\b(?:who|whom|whose)\b", re.I)),
    (
        "date",
        re.compile(
            r"哪天|哪一天|哪日|哪一日|什么时候|何时|什么时间|几月几[日号]|几号|哪一?年|哪个月|什么日子"
            r"|\bwhen\b|\bwhat (?:date|day|time|year)\b|\bwhich (?:date|day|year)\b|\bon what day\b",
            re.I,
        ),
    ),
    (
        "number",
        re.compile(
            r"多少|几[^乎]|几$|第几|多大|多久|多长|多远|多高|多重|比例|比重|百分之|[^效]率是"
            r"|\bhow (?:many|much|long|far|old|big)\b|\bwhat (?:percentage|share|proportion|rate|number)\b|\bnumber of\b",
            re.I,
        ),
    ),
    (
        "phrase",
        re.compile(
            r"哪句|哪条|什么(?:俗话|口号|话|字|标语|办法|措施|机制|思路|目标|要求|安排|内容|方式)|以什么",
            re.I,
        ),
    ),
    ("place", re.compile(r"哪|\bwhich\b|\bwhere\b", re.I)),
    (
        "phrase",
        re.compile(
            r"什么|怎么|怎样|如何|啥|\bwhat\b|\bhow\b",
            re.I,
        ),
    ),
)


def expected_type(question: str) -> AnswerType | None:
    """The kind of fact ``question`` asks for, or None (yes/no, open questions)."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind  # type: ignore[return-value]
    return None


# A count in digits, or in Chinese numerals other than a lone 一 (一家企业 is "a company", not a count).
_DIGITS = re.compile(
    r"\d+(?:\.\d+)?%?|(?:[二两三四五六七八九十百千万]|一[一二两三四五六七八九十百千万])[一二两三四五六七八九十百千万]*"
    r"(?=[个家名人位条台吨元户只件批项所座辆场次天])"
)
_DATE = re.compile(
    r"\d{1,2}月\d{1,2}[日号]|\d{1,2}月(?:上|中|下)旬|\d{4}年|\d{1,2}[日号](?:上午|下午|晚|凌晨)?|\d{1,2}月份?"
    r"|(?:去年|今年|昨天|今天|前天|当天|当日|近日|日前|除夕|春节|元宵|清明)"
)
_TITLES = (
    "书记|副书记|县长|副县长|市长|副市长|省长|主席|部长|局长|主任|经理|总经理|董事长|负责人|记者|通讯员|队长|组长"
    "|所长|院长|站长|校长|社长|行长|厂长|委员|常委|指挥|总指挥|乘组|航天员|村民|居民|老人|先生|女士|医生|护士|教授|老师"
    "|指导员|服务员|志愿者|干部|代表|专家|职工|员工|工人|班长|支书"
)
_PERSON = re.compile(
    rf"(?:{_TITLES})(?P<a>[\u4e00-\u9fff]{{2,3}})(?=[主出参说表介告指强要带下来到在等和与及同陪、，,。：:（(）)“”\s]|$)"
    r"|(?P<b>[\u4e00-\u9fff]{2,3})(?=(?:说|表示|介绍|告诉|坦言|笑着说|主持|陪同|讲话|下达|宣读|汇报))"
)
_PLACE = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9]{1,12}?(?:省|市|县|区|镇|乡|村|街道|社区|小区|园区|开发区|港区|高速|路口|卡点|口|路|大道|大桥|桥"
    r"|公司|集团|企业|工厂|厂|银行|医院|学校|中学|小学|局|委|办|中心|站|所|馆|农庄|饭店|酒店|茶业|竹业|竹木|项目|工程|铁路)"
)
_QUOTE = re.compile(r"[“\"「『]([^”\"」』]{2,40})[”\"」』]")
_LIST = re.compile(r"[\u4e00-\u9fff]{2,}[、+＋][\u4e00-\u9fff]{2,}")
_METHOD = re.compile(r"通过|采取|采用|实行|实施|建立|利用|开展|坚持|做到|确保|落实|要求|提出|安排|为目标|以")


def _new(found: str, question: str) -> bool:
    """A match counts only when the question does not already hold it."""
    found = found.strip()
    return bool(found) and found not in question


def states(sentence: str, kind: str | None, question: str) -> bool:
    """True when ``sentence`` holds a fact of ``kind`` that ``question`` does not already contain."""
    if kind is None:
        return True
    if kind == "number":
        return any(
            _new(m.group(0), question) for m in _DIGITS.finditer(sentence) if not _is_date_at(sentence, m)
        )
    if kind == "date":
        return any(_new(m.group(0), question) for m in _DATE.finditer(sentence))
    if kind == "person":
        return any(_new(m.group("a") or m.group("b"), question) for m in _PERSON.finditer(sentence))
    if kind == "place":
        if asks_list(question):
            return bool(_LIST.search(sentence))
        return any(_new(m.group(0), question) for m in _PLACE.finditer(sentence)) or bool(
            _LIST.search(sentence)
        )
    if kind == "phrase":
        return (
            any(_new(m.group(1), question) for m in _QUOTE.finditer(sentence))
            or bool(_LIST.search(sentence))
            or bool(_METHOD.search(sentence))
        )
    return False


def asks_list(question: str) -> bool:
    """哪些 asks for several: one name is not the answer, an enumeration is."""
    return "哪些" in question or bool(
        re.search(r"\bwhich (?:\w+ )?(?:three|two|four|\w+s)\b", question, re.I)
    )


def _is_date_at(text: str, m: re.Match[str]) -> bool:
    """Digits that are part of a date or clock time (3月3日, 11时) are no quantity."""
    after = text[m.end() : m.end() + 1]
    return after in ("月", "日", "号", "时", "点", "期", "版") or (after == "年" and len(m.group(0)) == 4)


_WH = re.compile(
    r"由谁|是谁|叫什么名字|什么时候|哪一天|哪一年|哪天|哪些|哪个|哪家|哪位|哪句|哪里|多少|几|什么|怎么|怎样|如何|谁|哪"
)
HEAD_CHARS = 4
_LINKING = re.compile(r"(?:是|叫|为|有|了|在|的|要|将|把|被|让|给|于|从|由|对)+$")


def focus_text(question: str) -> str:
    """The words right around the question word: the part of the question the answer sentence must echo.

    The rest of a question names the topic, which the sentence that restates
    the question shares too; ``由谁主持`` is answered where 主持 is, ``董事长叫什么名字``
    where 董事长 is.
    """
    m = None
    for m in _WH.finditer(question):
        pass
    if m is None:
        return ""
    tail = first_clause(question[m.end() :])
    head = _LINKING.sub("", last_clause(question[: m.start()]))[-HEAD_CHARS:]
    return f"{head} {tail}"


_TIME_TERM = re.compile(
    r"\d{4}年|\d{1,2}月(?:份|底|初|上旬|中旬|下旬)?|\d{1,2}[日号]|[一二三四]季度|上半年|下半年|年底|年初|月底|月初"
)
_COUNTED = re.compile(
    r"(?:多少|几)多?([个家名人位条台吨元户只件批项所座辆场次天周岁本册张支箱套份斤米亩趟组队管例倍])"
)
# Measure words a paper may use for the same count: 几位干部 is answered by 4名.
_SAME_UNIT = {
    "名": "名人位个",
    "人": "名人位个",
    "位": "名人位个",
    "个": "个家名人位项所",
    "家": "家个",
    "本": "本册",
    "册": "本册",
}


def time_terms(question: str) -> list[str]:
    """Dates and periods the question is pinned to (4月份, 2021年, 一季度): a passage about another time does not answer it."""
    return _TIME_TERM.findall(question)


_GROUPED = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_YEAR = re.compile(r"(\d{4})年")


def mentions_time(text: str, term: str) -> bool:
    """``text`` names ``term`` (a ``time_terms`` item), also as 4,000年 for 4000年 or within 1975-1985年 for 1975年."""
    text = _GROUPED.sub("", text)
    if term in text:
        return True
    year = _YEAR.fullmatch(term)
    return (
        year is not None
        and re.search(rf"(?<!\d){year.group(1)}\s*[-–—~至到]\s*\d{{2,4}}年", text) is not None
    )


def counted_unit(question: str, exact: bool = False) -> re.Pattern[str] | None:
    """For 多少户/几个: a pattern for a number counted in that measure word (or, unless ``exact``, one papers use for it)."""
    m = _COUNTED.search(question)
    if m is None:
        return None
    units = m.group(1) if exact else _SAME_UNIT.get(m.group(1), m.group(1))
    return re.compile(
        rf"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)\s*(?:余|多|来)?\s*(?:万|亿|千|百)?\s*[{units}]"
    )
