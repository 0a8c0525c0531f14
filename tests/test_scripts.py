"""Every tool kept in scripts/ runs, briefly, against the real index, server and model.

The tools print figures that docs/*.md quote; a tool that broke would only be found the day someone
needed a figure again. Each runs here as a user runs it (``python -m scripts.NAME`` from the repository
root) with the smallest arguments that still take every path, and must exit 0 with its report. No
figure is checked: they depend on the machine. One-off experiments are not kept; their figures stay in
the docs with the commit that produced them.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, STORE

SCRIPTS = ROOT / "scripts"
# scripts/ modules that are not tools of their own: imported by the one named.
HELPERS = {"answer_learners": "fit_answers"}
RUN_HERE = {
    "fit_answers",
    "load_shed_bench",
    "load_test",
    "mcp_bench",
    "model_threads_bench",
    "remote_embed_bench",
}


def run(tool: str, *args: str) -> str:
    """The tool's stdout; fails the test with its stderr when it exits non-zero."""
    done = subprocess.run(
        [sys.executable, "-m", f"scripts.{tool}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"scripts/{tool}.py exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_tool_is_run_here_and_imports_as_a_module():
    """A tool added to scripts/ without a run here fails; each imports cleanly (no sys.path edits)."""
    names = {p.stem for p in SCRIPTS.glob("*.py") if p.stem != "__init__"}
    assert names == RUN_HERE | set(HELPERS), "add the new tool to RUN_HERE and give it a test below"
    for name in sorted(names):
        module = importlib.import_module(f"scripts.{name}")
        assert module.__doc__, f"scripts/{name}.py says what it measures and how to run it"
        assert name in HELPERS or callable(getattr(module, "main", None))
        assert "sys.path" not in (SCRIPTS / f"{name}.py").read_text(encoding="utf-8")


def test_load_test(server_url):
    out = run("load_test", "--url", server_url, "--requests", "4", "--concurrency", "2")
    assert "/api/search" in out and "/api/chat" in out
    assert "bare query embedding" in out and "sequential /api/chat p50" in out


def test_mcp_bench(server_url):
    out = run("mcp_bench", "--url", server_url, "--requests", "2")
    for tool in ("search", "ask", "list_documents", "read_document"):
        assert any(
            line.startswith(tool) and "wire/API" in line and "sdk/API" in line for line in out.splitlines()
        ), out


def test_load_shed_bench(server_url):
    out = run(
        "load_shed_bench",
        *("--url", server_url, "--clients", "1,2", "--seconds", "1", "--requests", "6", "--hog", "1"),
    )
    assert "quiet: accepted p95 at 2 clients" in out and "hog×1: accepted p95 at 2 clients" in out, out
    assert "other errors: none" in out, out


def test_model_threads_bench():
    out = run("model_threads_bench", "--configs", "shipped", "--hog", "1", "--budget", "0.3")
    rows = [line for line in out.splitlines() if line.startswith("shipped")]
    assert len(rows) == 2 and all("queries)" in line for line in rows), out


def test_remote_embed_bench():
    report = json.loads(run("remote_embed_bench", "--docs", "2").splitlines()[-1])
    assert report["store"] == "local" and report["chunks"] > 0
    assert report["embedding"]["embedded"] > 0


@pytest.mark.skipif(STORE != "local", reason="the script opens the index with the default store")
def test_fit_answers(settings, tmp_path):
    """Rows of a sample of the shipped questions, a model fitted on them, and that model scored.

    tests/test_answer_model.py fits on a public set and checks the shipped accuracy is reproduced."""
    rows, model = tmp_path / "seeds.npz", tmp_path / "model.json"
    run("fit_answers", "collect", "--index-dir", str(settings.index_dir), "--limit", "40", "--out", str(rows))
    fitted = json.loads(run("fit_answers", "fit", "--train", str(rows), "--out", str(model)))
    assert fitted["fitted_on"] == ["questions.jsonl"] and model.is_file()
    scored = json.loads(run("fit_answers", "score", "--model", str(model), "--test", str(rows)))
    assert 0.0 <= scored["seeds.npz"]["accuracy"] <= 1.0
