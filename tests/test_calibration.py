"""The decline threshold read off the corpus: cloze questions of its own sentences, own document out."""

from __future__ import annotations

import time

from qa.answer import calibration
from qa.answer.chat import answer_model
from qa.search.retrieval import Retriever


def test_cloze_questions_come_from_the_corpus_and_repeat(engine):
    chunks = list(engine.index.iter_chunks())
    first = calibration.cloze_questions(chunks, engine.retriever.segmenter, 30)
    again = calibration.cloze_questions(reversed(chunks), engine.retriever.segmenter, 30)
    assert first == again and len(first) == 30, "the same questions whatever order the store gives chunks in"
    texts = {c.doc: "".join(x.text for x in chunks if x.doc == c.doc) for c in chunks}
    for question, doc in first:
        assert question.endswith("？") and question.count("什么") >= 1
        before = question.split("什么", 1)[0]
        assert before in texts[doc], (question, doc)


def test_the_seeds_get_a_threshold_of_their_own(engine):
    model = answer_model(engine.settings)
    found = calibration.calibrate(engine.retriever, model)
    assert found.calibrated and found.questions >= calibration.MIN_QUESTIONS
    assert 0.0 < found.threshold < 1.0 and found.threshold != model.threshold
    assert calibration.calibrated(engine.retriever, model).threshold == found.threshold
    assert calibration.calibration_of(engine.retriever) == found


def test_too_few_questions_or_the_setting_off_keep_the_models_threshold(engine):
    model = answer_model(engine.settings)
    few = calibration.calibrate(engine.retriever, model, n=calibration.MIN_QUESTIONS - 1)
    assert few == calibration.Calibration(model.threshold, calibration.MIN_QUESTIONS - 1, False)
    off = Retriever(
        engine.index,
        engine.retriever.embedder,
        engine.settings.model_copy(update={"answer_calibration": False}),
    )
    assert calibration.calibrated(off, model) is model


def test_a_newer_build_answers_with_the_previous_threshold_until_its_own_is_found(engine):
    """What a server does after an upload: the swap does not wait seconds for the new build's threshold."""
    model = answer_model(engine.settings)
    calibration.calibrated(engine.retriever, model)
    previous = calibration.calibration_of(engine.retriever)
    newer = engine.reopen()
    assert newer.calibration() is previous, "carried over at once"
    deadline = time.monotonic() + 300
    while newer.calibration() is previous and time.monotonic() < deadline:
        time.sleep(0.2)
    assert newer.calibration() is not previous, "its own, found on a thread of its own"
    assert newer.calibration() == previous, "the same corpus asks the same questions"
    assert newer.answer_model().threshold == previous.threshold


def test_a_cloze_question_asks_in_the_script_of_its_sentence(engine):
    """Full-width commas are not Traditional: a Simplified passage is asked 什么, a Traditional one 什麼."""
    from qa.models import Chunk

    simplified = "平湖市共启用集中隔离点十四个，累计隔离观察人员一千余人，目前全部解除隔离。"
    traditional = "臺北市立動物園位於臺北市文山區，是臺灣規模最大的動物園，每年吸引大量遊客。"
    chunks = [
        Chunk(doc, "标题", 1, 1, text, 0, len(text), 1, 1, f"{doc}#1")
        for doc, text in (("s.txt", simplified), ("t.txt", traditional))
    ]
    asked = dict((doc, q) for q, doc in calibration.cloze_questions(chunks, engine.retriever.segmenter, 2))
    assert "什么" in asked["s.txt"] and "什麼" not in asked["s.txt"], asked
    assert "什麼" in asked["t.txt"], asked
