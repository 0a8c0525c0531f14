"""The README and docs/ pages kept in step with the code (issue 21).

Fast: no model, no index, no server. Each test names what drifted: a setting nobody documented, a
documented WENYUAN_* variable the code does not read, a `qa` command that does not exist (or one that
is not documented), a relative link or #anchor that points nowhere, a README grown back into a manual, a
script named that is gone (a removed one-off is named with the commit that has it).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import typer.main

from qa.cli import app
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 250

# WENYUAN_* names the docs may mention that are not fields of Settings. Keep this short.
NOT_SETTINGS = {
    "WENYUAN_TEST_STORE",  # tests only: which store the test suite runs against (tests/conftest.py)
}

ENV = re.compile(r"WENYUAN_[A-Z0-9_]+")
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); a target with no spaces, optionally followed by a "title"
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
QA_COMMAND = re.compile(r"(?<![\w./-])qa ([a-z][a-z-]*)")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prose_lines(path: Path):
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for n, line in enumerate(_text(path).splitlines(), 1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case, spaces to hyphens.

    Letters of any script (CJK included), digits, '_' and '-' are kept.
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every #fragment a heading of this file answers to (repeated headings get -1, -2 …)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line in _prose_lines(path):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def env_names_of_settings() -> dict[str, str]:
    """WENYUAN_* name → field, for every field (and every alias a field accepts)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: dict[str, str] = {}
    for field, info in Settings.model_fields.items():
        names[(prefix + field).upper()] = field
        alias = info.validation_alias
        choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
        for choice in choices:
            if isinstance(choice, str) and choice.upper().startswith(prefix.upper()):
                names[choice.upper()] = field
    return names


def mentions(pattern: re.Pattern) -> dict[str, list[str]]:
    """Every match of the pattern's first group (or whole match) in README.md and docs/*.md → file:line."""
    found: dict[str, list[str]] = {}
    for path in PAGES:
        for n, line in enumerate(_text(path).splitlines(), 1):
            for name in pattern.findall(line):
                found.setdefault(name, []).append(f"{_rel(path)}:{n}")
    return found


def documented_env_names() -> dict[str, list[str]]:
    return mentions(ENV)


def cli_commands() -> set[str]:
    return set(typer.main.get_command(app).commands)


def documented_commands() -> dict[str, list[str]]:
    return mentions(QA_COMMAND)


def test_slug_follows_github():
    assert slug("Writers, crashes and readers") == "writers-crashes-and-readers"
    assert slug("`--json`: the stable search schema") == "--json-the-stable-search-schema"
    assert slug("OpenAI-compatible API (`/v1`)") == "openai-compatible-api-v1"
    assert slug("资料库: the documents in the page") == "资料库-the-documents-in-the-page"
    assert slug("问源 wenyuan — ask the sources") == "问源-wenyuan--ask-the-sources"


def test_every_setting_is_documented():
    documented = documented_env_names()
    missing = sorted(
        f"WENYUAN_{field.upper()}"
        for field in Settings.model_fields
        if not any(name in documented for name, f in env_names_of_settings().items() if f == field)
    )
    assert not missing, f"settings in qa/settings.py that no README/docs page mentions: {', '.join(missing)}"


def test_every_documented_variable_is_a_setting():
    real = env_names_of_settings()
    unknown = []
    for name, where in sorted(documented_env_names().items()):
        if name in real or name in NOT_SETTINGS:
            continue
        if name.endswith("_") and any(r.startswith(name) for r in real):
            continue  # a family, written as WENYUAN_LLM_ or WENYUAN_EMBED_*
        unknown.append(f"{name} ({', '.join(where[:3])})")
    assert not unknown, "WENYUAN_* names in the docs that qa.settings.Settings does not read: " + "; ".join(
        unknown
    )


def test_every_documented_command_exists():
    commands = cli_commands()
    unknown = [
        f"qa {name} ({', '.join(where[:3])})"
        for name, where in sorted(documented_commands().items())
        if name not in commands
    ]
    assert not unknown, (
        f"commands in the docs that qa/cli.py does not have ({', '.join(sorted(commands))}): "
        + "; ".join(unknown)
    )


def test_every_command_is_documented():
    documented = documented_commands()
    missing = sorted(f"qa {name}" for name in cli_commands() if name not in documented)
    assert not missing, f"qa/cli.py commands no README/docs page mentions: {', '.join(missing)}"


def test_every_relative_link_resolves():
    broken = []
    for path in PAGES:
        for n, line in _prose_lines(path):
            line = re.sub(r"`[^`]*`", "", line)  # code spans are not links
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                    continue  # http:, https:, mailto: …
                where = f"{_rel(path)}:{n}: ({target})"
                file_part, _, fragment = target.partition("#")
                dest = (path.parent / unquote(file_part)).resolve() if file_part else path
                if not dest.exists():
                    broken.append(f"{where} no such file {file_part}")
                    continue
                if fragment and dest.suffix == ".md" and unquote(fragment) not in anchors(dest):
                    broken.append(f"{where} no heading #{fragment} in {_rel(dest)}")
    assert not broken, "links that point nowhere:\n" + "\n".join(broken)


def test_readme_is_a_front_door():
    n = len(_text(README).splitlines())
    assert n <= README_MAX_LINES, (
        f"README.md has {n} lines (at most {README_MAX_LINES}): move the detail to a docs/ page"
    )


def test_readme_links_every_docs_page():
    readme = _text(README)
    missing = [_rel(page) for page in DOCS if f"]({_rel(page)})" not in readme]
    assert not missing, f"docs pages the README's table of contents does not link: {', '.join(missing)}"


SCRIPT = re.compile(r"(?<![\w/])scripts/(\w+\.(?:py|sh))|-m scripts\.(\w+)")
COMMIT = re.compile(r"\bcommit\s+[0-9a-f]{7,40}\b")


def test_every_script_named_is_kept_or_its_commit_is_named():
    """A script the docs name is in scripts/; a removed one-off is named with the commit that has it."""
    stale = []
    for path in PAGES:
        for paragraph in re.split(r"\n\s*\n", _text(path)):
            for file, module in SCRIPT.findall(paragraph):
                name = file or f"{module}.py"
                if not (ROOT / "scripts" / name).is_file() and not COMMIT.search(paragraph):
                    stale.append(f"{_rel(path)}: scripts/{name}")
    assert not stale, "scripts that are gone, named without the commit that has them:\n" + "\n".join(stale)
