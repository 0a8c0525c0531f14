"""The `qa` command as a user runs it: one-line errors, clean JSON on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

Q = "截至3月1日庆元县健康码申领率是多少"


def qa(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0], proc.stderr


def test_search_json_is_the_only_stdout(settings):
    proc = qa("search", Q, "--json", "-k", "3", "--index-dir", str(settings.index_dir))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["hits"][0]["citation"]["doc"] == "000_03be0d9acd7aceea.txt"
    assert "64.24%" in data["hits"][0]["text"] and len(data["hits"]) == 3


def test_human_output_has_citation_line(settings):
    proc = qa("search", Q, "--index-dir", str(settings.index_dir))
    assert proc.returncode == 0
    assert "《庆元“健康码”申领率 全市第一》 000_03be0d9acd7aceea.txt · 第1段" in proc.stdout


def test_bad_questions_and_k(settings):
    idx = str(settings.index_dir)
    assert_one_line_error(qa("search", "   ", "--index-dir", idx), "empty")
    assert_one_line_error(qa("search", Q, "-k", "0", "--index-dir", idx), "k must be between 1 and 50")
    assert_one_line_error(qa("search", Q, "-k", "51", "--index-dir", idx), "k must be between 1 and 50")
    assert_one_line_error(qa("search", Q, "--mode", "magic", "--index-dir", idx), "unknown mode")


def test_no_index_says_how_to_build(tmp_path):
    assert_one_line_error(qa("search", Q, "--index-dir", str(tmp_path / "none")), "qa index")


def test_corpus_errors(tmp_path):
    assert_one_line_error(
        qa("index", str(tmp_path / "missing"), "--index-dir", str(tmp_path / "i")), "missing"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "junk.txt").write_bytes(bytes(range(256)) * 4)
    assert_one_line_error(qa("index", str(empty), "--index-dir", str(tmp_path / "i")), "readable text")


def test_undecodable_file_is_skipped_with_warning(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_text("平湖市规上工业企业复工597家。\n", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\xff\xfe\x00\x01" * 50)
    proc = qa("index", str(corpus), "--index-dir", str(tmp_path / "i"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "warning: skipped bad.txt" in proc.stderr
    out = qa("search", "平湖复工多少家", "--json", "--index-dir", str(tmp_path / "i"))
    assert json.loads(out.stdout)["hits"][0]["citation"]["doc"] == "good.txt"
