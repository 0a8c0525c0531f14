"""The source tree as merged: no file left holding a merge's conflict markers.

A marker inside a docstring or a Markdown page still imports and renders, so nothing else would
notice one (a docstring carried both sides of a merge for a session before this test).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("qa", "embeddings", "scripts", "tests", "web", "docs", "deploy", "examples")
SUFFIXES = {".py", ".md", ".sh", ".toml", ".yml", ".yaml", ".js", ".css", ".html", ".json", ".txt"}
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def _files() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for top in CHECKED:
        found += [p for p in (ROOT / top).rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    return found


def test_no_file_holds_conflict_markers():
    files = _files()
    assert len(files) > 100, f"only {len(files)} files found under {ROOT}: the tree moved?"
    marked = [
        f"{p.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
        for p in files
        for text in [p.read_text(encoding="utf-8", errors="replace")]
        for m in [MARKER.search(text)]
        if m
    ]
    assert not marked, "merge conflict markers left in: " + ", ".join(marked)
