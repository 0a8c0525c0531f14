"""Writers on one index folder, with real `qa index` processes: one builds, the other is refused; crashes clean up."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from qa.index.local import store
from qa.index.local.index import LoadedIndex
from qa.index.writer_lock import hold
from tests.conftest import ROOT, SEEDS, SMALL, local_only

pytestmark = local_only

QA = str(ROOT / ".venv" / "bin" / "qa")
BUSY = re.compile(
    r"^error: another `qa index` \(pid \d+\) is writing .+; nothing was done: run again when it has finished$"
)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "WENYUAN_INDEX_LOCK_WAIT": "0", **extra}


def _index(
    corpus: Path, index_dir: Path, *flags: str, env: dict[str, str] | None = None, **popen
) -> subprocess.Popen:
    return subprocess.Popen(
        [QA, "index", str(corpus), "--index-dir", str(index_dir), "--quiet", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _env(),
        **popen,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err


def _builds(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.glob("build-*")}


def _searchable(index_dir: Path) -> None:
    out = subprocess.run(
        [QA, "search", "健康码申领率", "--json", "--index-dir", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hits"], "the index loads and answers"


def _kill_mid_build(proc: subprocess.Popen, index_dir: Path, served: str) -> None:
    """``kill -9`` once the run has started writing its new build folder."""
    try:
        deadline = time.monotonic() + 300
        while not any((index_dir / b / store.CHUNKS).exists() for b in _builds(index_dir) - {served}):
            assert proc.poll() is None and time.monotonic() < deadline, "no build folder appeared"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()


def test_two_writers_at_once_one_builds_the_other_exits_2(small_corpus, tmp_path):
    """Repeated, first on an empty folder then over a good index (--force), where the old code lost the index."""
    index_dir = tmp_path / "idx"
    for round_ in range(3):
        flags = ("--force",) if round_ else ()
        procs = [_index(small_corpus, index_dir, *flags) for _ in range(2)]
        results = sorted(_finish(p) for p in procs)
        (ok, built), (busy, refused) = results
        assert (ok, busy) == (0, 2), results
        assert "index built" in built and "Traceback" not in built
        assert BUSY.match(refused.strip()) and refused.count("\n") == 1, refused
        manifest = store.read_manifest(index_dir)
        assert manifest is not None
        assert _builds(index_dir) == {manifest.build, manifest.previous} - {""}, (
            "only the current and previous build remain"
        )
        assert not list(index_dir.glob(".manifest-*"))
    _searchable(index_dir)


def test_writer_refused_before_any_work_while_the_folder_is_held(small_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    with hold(index_dir, 0):
        rc, err = _finish(_index(small_corpus, index_dir))
        assert rc == 2
        assert BUSY.match(err.strip()) and f"(pid {os.getpid()})" in err
        assert err.count("\n") == 1, "one line: no model loading or jieba messages before the refusal"
        assert not _builds(index_dir) and store.read_manifest(index_dir) is None


def test_second_writer_waits_for_the_lock_then_builds(small_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    with hold(index_dir, 0):
        proc = _index(small_corpus, index_dir, env=_env(WENYUAN_INDEX_LOCK_WAIT="300"))
        for _ in range(50):
            assert proc.poll() is None, "the writer waits instead of exiting"
            assert not _builds(index_dir), "nothing is written while another process holds the folder"
            time.sleep(0.1)
    rc, err = _finish(proc)
    assert rc == 0 and "index built" in err, err
    assert store.read_manifest(index_dir) is not None


def test_kill_9_mid_build_keeps_the_index_and_the_next_run_removes_the_leftovers(small_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    rc, err = _finish(_index(small_corpus, index_dir))
    assert rc == 0, err
    before = store.read_manifest(index_dir)
    bigger = tmp_path / "bigger"
    shutil.copytree(SEEDS, bigger)
    proc = _index(bigger, index_dir)
    _kill_mid_build(proc, index_dir, before.build)
    (index_dir / ".manifest-123-dead").write_text("{", encoding="utf-8")
    stale = _builds(index_dir) - {before.build}
    assert len(stale) == 1, "the killed run left its partial build"
    assert store.read_manifest(index_dir) == before
    assert len(LoadedIndex.load(index_dir).chunk_list) == before.chunks, "the previous index is still served"

    rc, err = _finish(_index(small_corpus, index_dir))
    assert rc == 0, "the kernel released the killed writer's lock"
    assert "up to date" in err and stale.pop() in err
    assert _builds(index_dir) == {before.build}
    assert not list(index_dir.glob(".manifest-*"))
    _searchable(index_dir)


def test_kill_9_mid_incremental_build_keeps_the_previous_build_and_the_next_run_adds_the_document(
    small_corpus, tmp_path
):
    index_dir = tmp_path / "idx"
    rc, err = _finish(_index(small_corpus, index_dir))
    assert rc == 0, err
    before = store.read_manifest(index_dir)
    added = "000_03be0d9acd7aceea.txt"
    shutil.copy(SEEDS / added, small_corpus / added)
    proc = _index(small_corpus, index_dir)
    _kill_mid_build(proc, index_dir, before.build)
    assert store.read_manifest(index_dir) == before
    assert {c.doc for c in LoadedIndex.load(index_dir).chunk_list} == {SMALL}, (
        "the previous build is still served"
    )

    proc = _index(small_corpus, index_dir, "--json")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["documents"] == {"added": [added], "changed": [], "removed": [], "unchanged": 1}
    assert report["reused"] == before.chunks, "the unchanged page is not embedded again"
    assert report["embedded"] == report["chunks"] - before.chunks
    assert _builds(index_dir) == {report["build"], before.build}, "the killed run's folder is gone"
    assert {c.doc for c in LoadedIndex.load(index_dir).chunk_list} == {SMALL, added}


def test_index_files_get_the_modes_of_the_umask(small_corpus, tmp_path):
    index_dir = tmp_path / "idx"
    rc, err = _finish(_index(small_corpus, index_dir, umask=0o002))
    assert rc == 0, err
    paths = [index_dir, *index_dir.rglob("*")]
    assert any(p.name == store.MANIFEST for p in paths) and any(p.name.startswith("build-") for p in paths)
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o775 if path.is_dir() else 0o664), f"{path.relative_to(tmp_path)}: {oct(mode)}"


JIEBA = "from qa.text.tokenize import Segmenter; print(Segmenter().tokens('健康码申领率'))"


def _segment(tmp_path: Path, cache_home: Path) -> tuple[Path, subprocess.CompletedProcess]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", JIEBA],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch), "XDG_CACHE_HOME": str(cache_home)},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "申领" in out.stdout
    return scratch, out


def test_jieba_cache_lives_in_a_private_folder_not_the_shared_temp(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (scratch / "jieba.cache").write_bytes(b"planted")
    cache_home = tmp_path / "cache"
    _, out = _segment(tmp_path, cache_home)
    private = cache_home / "wenyuan" / "jieba"
    assert (private / "jieba.cache").is_file()
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert os.listdir(scratch) == ["jieba.cache"] and (scratch / "jieba.cache").read_bytes() == b"planted"
    assert str(scratch) not in out.stderr, "the shared temp folder is neither read nor written"


def test_jieba_cache_folder_others_can_write_is_not_used(tmp_path):
    cache_home = tmp_path / "cache"
    shared = cache_home / "wenyuan" / "jieba"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    scratch, _ = _segment(tmp_path, cache_home)
    assert os.listdir(shared) == [], "no cache is loaded from or written to a folder others can write"
    assert os.listdir(scratch) == [], "the throw-away private folder is removed"
