"""The sentence verifier (qa.answer.verify) and the streamed sentence splitter (qa.answer.generate), as tables in Chinese.

The tagger is the retriever's real jieba segmenter, so names are found as the
server finds them.
"""

from __future__ import annotations

import pytest

from qa.answer.generate import sentences
from qa.answer.verify import verify
from qa.text.tokenize import Segmenter

HEALTH = "《庆元“健康码”申领率 全市第一》\n截至3月1日，庆元县健康码申领率达64.24%，居全市第一。"
WORK = "《平湖企业复工》\n截至2月22日，平湖市共有1234家规上企业复工，复工率达95%。县委书记蓝伶俐主持召开会议，要求“应复尽复”。"
PASSAGES = [HEALTH, WORK]


@pytest.fixture(scope="module")
def tag():
    return Segmenter().tag


CASES = [
    # (sentence, supported, the fact or problem named in the reason)
    ("截至3月1日，庆元县健康码申领率达64.24%[1]。", True, ""),
    ("平湖市共有1234家规上企业复工[2]。", True, ""),
    ("平湖市共有1235家规上企业复工[2]。", False, "1235家"),
    ("平湖市共有1234万元资金到位[2]。", False, "1234万元"),
    ("截至2月25日，平湖市共有1234家规上企业复工[2]。", False, "2月25日"),
    ("庆元县健康码申领率达64.24%[3]。", False, "[3]"),
    ("庆元县健康码申领率达64.24%。", False, "no [n] marker"),
    ("庆元县健康码申领率达64.24%[2]。", False, "64.24%"),
    ("截至3月1日，慶元縣健康碼申領率達64.24%[1]。", True, ""),
    ("庆元县健康码申领率达64.24%【1】。", True, ""),
    ("庆元县健康码申领率达６４．２４％[1]。", True, ""),
    ("县委书记蓝伶俐主持召开会议[2]。", True, ""),
    ("县委书记张伟主持召开会议[2]。", False, "张伟"),
    ("嘉兴市共有1234家规上企业复工[2]。", False, "嘉兴市"),
    ("会议要求“应复尽复”[2]。", True, ""),
    ("会议要求“全面复工”[2]。", False, "全面复工"),
    ("复工率达5%[2]。", False, "5%"),
    ("平湖市1234家企业复工，庆元县申领率64.24%[1][2]。", True, ""),
    ("平湖市1234家企业复工[2]，庆元县申领率64.24%[1]。", True, ""),
]


@pytest.mark.parametrize("sentence, supported, why", CASES)
def test_verify_table(tag, sentence, supported, why):
    verdict = verify(sentence, PASSAGES, tag)
    assert verdict.supported is supported, verdict
    assert why in verdict.reason


SPLITS = [
    # (pieces as they stream in, the sentences released)
    (["庆元县申领率达64.24%[1]。平湖", "市1234家[2]。"], ["庆元县申领率达64.24%[1]。", "平湖市1234家[2]。"]),
    (["庆元县申领率达64.24%。", "[1]平湖市1234家。[2]"], ["庆元县申领率达64.24%。[1]", "平湖市1234家。[2]"]),
    (["第一句[1]\n\n第二", "句[2]"], ["第一句[1]\n\n", "第二句[2]"]),
    (["没有句号的回答"], ["没有句号的回答"]),
    (
        ["庆元县申领率达64.24%。", "【1】平湖市1234家。【2】"],
        ["庆元县申领率达64.24%。【1】", "平湖市1234家。【2】"],
    ),
    (["他说：“复工了。”[1]然后[2]。"], ["他说：“复工了。”[1]", "然后[2]。"]),
    (["申领率64.", "24%[1]。"], ["申领率64.24%[1]。"]),
]


@pytest.mark.parametrize("pieces, expected", SPLITS)
def test_sentences_keep_their_markers_across_pieces(pieces, expected):
    assert list(sentences(pieces)) == expected
