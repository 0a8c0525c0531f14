"""The fitted answer models: their features by hand, the numpy evaluator against scikit-learn, and the fitting script.

The script test refits on a small sample (25 CMRC 2018 trial documents from
``../shared/data/mrc`` plus the shipped set) and holds the refit to the
shipped model's accuracy on the same rows, so a broken fitting path cannot
hide behind the committed JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from qa.answer.features import FEATURES, _echo, _longest_common, untitled_coverage, wh_context
from qa.answer.ranker import load_answer_model, model_from_json, shipped
from tests.conftest import ROOT

MRC = ROOT.parent / "shared" / "data" / "mrc"
CMRC = MRC / "cmrc2018_trial.json"


def test_question_word_context():
    assert wh_context("《神圣十月》是由哪个杂志连载的？") == ("《神圣十月》是由", "杂志连载的")
    assert wh_context("2009年3月17日谁宣布解散政府？") == ("09年3月17日", "宣布解散政府")
    assert wh_context("复工复产") == ("", "")


def test_echo_grows_from_the_question_word_outwards():
    # The 4 characters before 谁 are all in the sentence; only 2 of the 4 after it.
    assert _echo("3月17日", "2009年3月17日，总统宣布", from_end=True) == 1.0
    assert _echo("宣布解散", "总统宣布辞职", from_end=False) == 0.5
    assert _echo("", "anything", from_end=True) == 0.0


def test_longest_common_run_is_a_share_of_the_question():
    assert _longest_common("生命数耗完即算为", "生命数耗完即算为踢爆。") == 1.0
    assert _longest_common("abcd", "xxbcxx") == 0.5
    assert _longest_common("", "x") == 0.0


def test_untitled_coverage_weighs_what_the_page_title_lacks_by_its_rarity():
    # 天门冬's own characters count for nothing on its page; 稍 (in 1 of 3 texts) weighs
    # log1p(2.5/1.5) = 0.980829, 根 and 的 (in 2 of 3) log1p(1.5/2.5) = 0.470004 each.
    texts, titles = ["根稍肉质", "根的形状", "叶的形状"], ["天门冬"] * 3
    got = untitled_coverage(texts, titles, {"天", "门", "冬", "根", "的", "稍"})
    total = 0.980829 + 2 * 0.470004
    assert got == pytest.approx([(0.470004 + 0.980829) / total, 0.940008 / total, 0.470004 / total], abs=1e-5)
    # Another page's title removes other characters: 根系's page keeps 冬/天/门 (in no text here), so 0.
    got = untitled_coverage(["根稍肉质", "根系发达"], ["天门冬", "根系"], {"天", "门", "冬", "根"})
    assert list(got) == [1.0, 0.0]
    assert list(untitled_coverage(["根稍肉质"], ["根"], {"根"})) == [0.0]


def test_the_shipped_model_reads_every_feature_it_names():
    model = shipped()
    assert set(model.sentence.features) <= set(FEATURES)
    assert 0.0 < model.threshold < 1.0 and model.second_ratio > 0
    assert model.neighbour_ratio is None or 0.0 <= model.neighbour_ratio <= 1.0
    assert isinstance(model.join_back, bool)
    info = model.info
    assert (
        "cmrc2018_trial.json" in info["attribution"]
        and "CC BY-SA" in info["attribution"]["cmrc2018_trial.json"]
    )
    x = np.zeros((3, len(model.sentence.features)))
    p = model.sentence.probabilities(x)
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))


def test_a_logistic_model_is_the_textbook_formula(tmp_path):
    spec = {
        "kind": "logistic",
        "features": ["a", "b"],
        "mean": [1.0, 0.0],
        "scale": [2.0, 1.0],
        "coef": [1.0, -1.0],
        "intercept": 0.5,
    }
    model = model_from_json(spec)
    # z = (3-1)/2 * 1 + (2-0)/1 * -1 + 0.5 = -0.5
    assert model.probabilities(np.array([[3.0, 2.0]]))[0] == pytest.approx(1 / (1 + np.exp(0.5)))


def test_the_numpy_trees_give_lightgbms_own_probabilities():
    """Trees of uneven depth, missing values either way: the serving evaluator against the library that fitted them."""
    from lightgbm import LGBMClassifier

    from scripts.answer_learners import lightgbm_json

    rng = np.random.default_rng(7)
    x = rng.standard_normal((600, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0.3) | (np.abs(x[:, 3]) > 1.8)
    x[rng.random(x.shape) < 0.1] = np.nan
    clf = LGBMClassifier(n_estimators=40, num_leaves=24, min_child_samples=5, verbose=-1).fit(x, y)
    trees = model_from_json(lightgbm_json(clf, tuple("abcde")))
    assert len(set(trees.walking)) > 2, "the trees should end at different depths"
    probe = rng.standard_normal((300, 5))
    probe[rng.random(probe.shape) < 0.2] = np.nan
    assert np.allclose(trees.probabilities(probe), clf.predict_proba(probe)[:, 1], rtol=0, atol=1e-9)
    whole = probe[~np.isnan(probe).any(axis=1)]
    assert np.allclose(trees.probabilities(whole), clf.predict_proba(whole)[:, 1], rtol=0, atol=1e-9)


def test_an_unreadable_model_file_is_a_clear_error(tmp_path):
    from qa.errors import WenyuanError

    bad = tmp_path / "model.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(WenyuanError, match="refit"):
        load_answer_model(bad)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.fit_answers", *args],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
    )


@pytest.mark.skipif(not CMRC.is_file(), reason="../shared/data/mrc is not beside the checkout")
def test_the_fitting_script_reproduces_the_shipped_accuracy_on_a_sample(settings, tmp_path):
    from qa.evaluation.squad import index_squad
    from qa.settings import Settings

    _, sample = index_squad(CMRC, Settings(), tmp_path / "cmrc", progress=False, documents=25, seed=1)
    cmrc_rows, seeds_rows = tmp_path / "cmrc.npz", tmp_path / "seeds.npz"
    proc = run(
        "collect",
        "--index-dir",
        str(sample.index_dir),
        "--squad",
        str(CMRC),
        "--documents",
        "25",
        "--seed",
        "1",
        "--out",
        str(cmrc_rows),
    )
    assert proc.returncode == 0, proc.stderr
    proc = run("collect", "--index-dir", str(settings.index_dir), "--out", str(seeds_rows))
    assert proc.returncode == 0, proc.stderr
    # The same CMRC questions asked of the seeds' index: off-topic there, so declines to learn.
    off_topic = tmp_path / "cmrc-on-seeds.npz"
    proc = run(
        "collect",
        "--index-dir",
        str(settings.index_dir),
        "--squad",
        str(CMRC),
        "--documents",
        "25",
        "--seed",
        "1",
        "--off-topic",
        "--out",
        str(off_topic),
    )
    assert proc.returncode == 0, proc.stderr

    refit = tmp_path / "model.json"
    proc = run(
        "fit",
        "--train",
        str(cmrc_rows),
        str(seeds_rows),
        str(off_topic),
        "--test",
        str(cmrc_rows),
        str(seeds_rows),
        "--out",
        str(refit),
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["out_of_fold cmrc2018_trial.json (off-topic)"]["n"] == {
        "offtopic": report["out_of_fold cmrc2018_trial.json"]["n"]["answerable"]
    }
    assert report["out_of_fold cmrc2018_trial.json (off-topic)"]["declined"]["offtopic"] >= 0.6
    assert load_answer_model(refit).threshold == pytest.approx(report["threshold"])
    # The shipped model, scored on the same rows by the same script.
    proc = run(
        "score",
        "--model",
        str(ROOT / "qa" / "answer" / "answer_model.json"),
        "--test",
        str(cmrc_rows),
        str(seeds_rows),
    )
    assert proc.returncode == 0, proc.stderr
    shipped_report = json.loads(proc.stdout)
    for rows in ("cmrc.npz", "seeds.npz"):
        assert report[rows]["accuracy"] >= shipped_report[rows]["accuracy"] - 0.05, (
            report[rows],
            shipped_report[rows],
        )


def test_two_neighbouring_sentences_hold_an_answer_over_their_end_together():
    """By hand: 7.8% of CMRC's gold answers run over a sentence end; the rows label the joined pair."""
    from qa.answer.features import Candidate
    from qa.evaluation.answer_data import holds_answer, joined_text
    from qa.models import Citation, Hit, Scores

    def hit(rank: int, text: str) -> Hit:
        return Hit(
            rank, f"c{rank}", text, (0, 0), Scores(0.0), Citation("a.txt", "标题", rank, 0, len(text), 1, 1)
        )

    one, two = hit(1, "甲乙。丙丁。 戊己。"), hit(2, "庚辛。")
    a, b, c, d = Candidate(one, 0, 3), Candidate(one, 3, 6), Candidate(one, 7, 10), Candidate(two, 0, 3)
    assert joined_text(a, b) == "甲乙。丙丁。"
    assert joined_text(b, c) == "丙丁。 戊己。", "a space between them: still neighbours"
    assert joined_text(a, c) == "", "not next to each other"
    assert joined_text(c, d) == "" and joined_text(c, None) == "", "another passage, or none"
    assert holds_answer(joined_text(a, b), ["乙。丙丁"]) and not holds_answer(a.text, ["乙。丙丁"])


def answer_rows(asked: list, width: int = 2):
    from qa.evaluation.answer_data import AnswerRows

    n = len(asked)
    return AnswerRows(
        x=np.ones((n, width), dtype=np.float32),
        label=np.ones(n, dtype=bool),
        length=np.full(n, 7, dtype=np.int32),
        doc=np.zeros(n, dtype=np.int32),
        group=np.arange(n, dtype=np.int32),
        evidence=np.zeros((n, 3)),
        words=np.ones(n),
        asked=asked,
        label_next=np.zeros(n, dtype=bool),
        back=np.zeros(n, dtype=bool),
    )


def test_rows_are_one_file_and_a_failed_save_leaves_the_previous_one(tmp_path):
    from qa.evaluation.answer_data import AnswerRows

    path = tmp_path / "rows.npz"
    answer_rows([{"source": "甲", "id": "1"}]).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["rows.npz"]
    with pytest.raises(TypeError):
        answer_rows([{"source": "乙", "id": object()}, {}]).save(path)  # fails halfway through writing
    assert [p.name for p in tmp_path.iterdir()] == ["rows.npz"]
    again = AnswerRows.load(path)
    assert again.asked == [{"source": "甲", "id": "1"}] and again.length.tolist() == [7]


def test_threads_saving_one_row_file_at_once_leave_one_of_them_whole(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from qa.evaluation.answer_data import AnswerRows

    path = tmp_path / "rows.npz"
    savers = [
        answer_rows([{"source": f"s{i}", "id": str(j)} for j in range(300)], width=64) for i in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda r: r.save(path), savers))
    assert [p.name for p in tmp_path.iterdir()] == ["rows.npz"]
    kept = AnswerRows.load(path)
    assert len({a["source"] for a in kept.asked}) == 1 and len(kept.asked) == 300


def test_a_save_killed_mid_write_leaves_a_whole_file(tmp_path):
    from qa.evaluation.answer_data import AnswerRows

    path = tmp_path / "rows.npz"
    answer_rows([{"source": "甲", "id": "0"}]).save(path)
    saver = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from tests.test_answer_model import answer_rows\n"
        "rows = answer_rows([{'source': '乙', 'id': str(i)} for i in range(2000)], width=4000)\n"
        "rows.x = np.random.default_rng(0).random(rows.x.shape, dtype=np.float32)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    rows.save(Path(sys.argv[1]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", saver, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    proc.kill()
    proc.wait(timeout=30)
    kept = AnswerRows.load(path)
    assert len(kept.asked) in (1, 2000) and kept.x.shape[0] == len(kept.asked)


def test_the_decline_row_says_how_far_the_top_document_stands_out():
    """By hand: two passages of the top document, then one of another at 0.6 of the top's fused score."""
    from qa.answer.abstain import DECLINE_FEATURES, EVIDENCE, decline_row

    col = FEATURES.index
    x = np.zeros((4, len(FEATURES)), dtype=np.float32)
    x[:, col("rank")] = [1, 1, 2, 3]
    x[:, col("same_doc_as_top")] = [1, 1, 1, 0]
    x[:, col("fused_rel")] = [1.0, 1.0, 0.9, 0.6]
    probs = np.array([0.2, 0.7, 0.1, 0.05])
    row = dict(zip(DECLINE_FEATURES, decline_row([0.0] * len(EVIDENCE), 5.0, x, probs)[0]))
    assert row["other_doc_gap"] == pytest.approx(0.4)
    assert row["top_doc_hits"] == 2
    assert row["p_best"] == pytest.approx(0.7) and row["p_gap"] == pytest.approx(0.5)
    x[3, col("same_doc_as_top")] = 1
    alone = dict(zip(DECLINE_FEATURES, decline_row([0.0] * len(EVIDENCE), 5.0, x, probs)[0]))
    assert np.isnan(alone["other_doc_gap"]), "no other document among the passages: missing, not 0 or 1"
    assert alone["top_doc_hits"] == 3
