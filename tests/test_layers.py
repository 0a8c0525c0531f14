"""The package's import structure, drawn from the code and pinned: size, layers, the Milvus backend apart.

1. No module over 400 lines in qa/, embeddings/, scripts/ or web/js/.
2. The data flows one way: documents → chunks → index → retrieval → answer → API/CLI. A module never
   imports one of a higher layer (imports inside functions count: they run too).
3. The Milvus backend (qa/index/milvus/) imports nothing of the local backend.
4. The store setting (``settings.store``) is read in one module, qa/index/factory.py.

What breaks a rule today and is being fixed is listed in a KNOWN set: a new violation fails, and so does
a listed one that is gone, so that the lists only shrink. ``python -m tests.test_layers`` prints the
drawing (layers and their modules, imports between folders) for a note.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
SIZED = {"qa": "*.py", "embeddings": "*.py", "scripts": "*.py", "web/js": "*.js"}
# Lowest first. A prefix names a package and everything under it; "qa" is the root's __init__ only.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("qa", "qa.errors", "qa.models", "qa.settings")),
    ("documents and text", ("qa.ingest", "qa.text", "embeddings")),
    ("index", ("qa.index",)),
    ("retrieval", ("qa.search",)),
    ("answer", ("qa.answer",)),
    ("facade", ("qa.engine",)),
    ("API, CLI and evaluation", ("qa.api", "qa.mcp_server", "qa.cli", "qa.render", "qa.evaluation")),
]
MILVUS = "qa.index.milvus"
# The local backend: qa/index/local/ (its FAISS helpers included); any module of the old layout that
# comes back would be listed here. A name here that no longer exists fails, so the list follows the code.
LOCAL_PACKAGE = "qa.index.local"
LOCAL_MODULES: set[str] = set()

# Known today (issue 21, being fixed by the index core with sibling backends and one place per decision).
KNOWN_LONG: set[str] = set()
KNOWN_UPWARD: set[tuple[str, str]] = set()
KNOWN_LOCAL: set[tuple[str, str]] = set()


def module_files() -> dict[str, Path]:
    """Every module of the two packages by dotted name (a package by its own name)."""
    found = {}
    for package in ("qa", "embeddings"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def known_ancestor(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the two packages that ``name`` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ("qa", "embeddings"):
                resolved = known_ancestor(target, modules)
                if resolved and resolved != name:
                    found.add(resolved)
    return found


def graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports(name, path, modules) for name, path in modules.items()}


def layer_of(name: str) -> int | None:
    for number, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or (p != "qa" and name.startswith(p + ".")) for p in prefixes):
            return number
    return None


def is_local(name: str) -> bool:
    return name in LOCAL_MODULES or name == LOCAL_PACKAGE or name.startswith(LOCAL_PACKAGE + ".")


def long_modules() -> dict[str, int]:
    found = {}
    for folder, pattern in SIZED.items():
        for path in sorted((ROOT / folder).rglob(pattern)):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                found[path.relative_to(ROOT).as_posix()] = lines
    return found


def upward_imports(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, targets in edges.items() for b in targets if layer_of(b) > layer_of(a)}


def local_imports(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, targets in edges.items() if a.startswith(MILVUS) for b in targets if is_local(b)}


def compare(found: set, known: set, what: str) -> None:
    new, fixed = found - known, known - found
    assert not new, f"new {what}: {sorted(new)}"
    assert not fixed, f"fixed, so remove from the known {what}: {sorted(fixed)}"


def test_every_module_has_a_layer():
    unplaced = sorted(name for name in module_files() if layer_of(name) is None)
    assert not unplaced, f"place these in LAYERS: {unplaced}"


def test_no_module_is_over_400_lines():
    long = long_modules()
    compare(set(long), KNOWN_LONG, f"modules over {MAX_LINES} lines ({long})")


def test_no_module_imports_a_higher_layer():
    compare(upward_imports(graph()), KNOWN_UPWARD, "imports from a lower layer to a higher one")


def test_the_milvus_backend_imports_nothing_of_the_local_one():
    modules = module_files()
    missing = sorted(name for name in LOCAL_MODULES if name not in modules)
    assert not missing, f"these moved or went: update LOCAL_MODULES {missing}"
    compare(local_imports(graph()), KNOWN_LOCAL, "imports of the local backend by the Milvus one")


def test_the_store_setting_is_read_in_one_module():
    readers = set()
    for name, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "store" and isinstance(node.ctx, ast.Load):
                if "settings" in ast.unparse(node.value).lower():
                    readers.add(name)
    assert readers == {"qa.index.factory"}, readers


def room(name: str, modules: dict[str, Path]) -> str:
    """The folder a module lives in (a module directly in qa/ is a room of its own)."""
    if modules[name].name == "__init__.py" or name.rpartition(".")[0] == "qa":
        return name
    return name.rpartition(".")[0]


def drawing() -> str:
    """Layers (lowest first) with their rooms and modules, then which rooms import which."""
    modules, edges = module_files(), graph()
    rooms: dict[str, list[str]] = defaultdict(list)
    for name in modules:
        rooms[room(name, modules)].append(name.rpartition(".")[2] if name != room(name, modules) else "")
    lines = []
    for number, (title, _) in enumerate(LAYERS):
        lines.append(f"{number} {title}")
        for r in sorted(r for r in rooms if layer_of(r) == number):
            inside = sorted(m for m in rooms[r] if m)
            lines.append(f"    {r}" + (f": {', '.join(inside)}" if inside else ""))
    between: dict[str, set[str]] = defaultdict(set)
    for a, targets in edges.items():
        for b in targets:
            ra, rb = room(a, modules), room(b, modules)
            if ra != rb:
                between[ra].add(rb)
    upward, local = upward_imports(edges), local_imports(edges)
    lines.append("imports between folders (↑ a higher layer, ✗ the local backend from Milvus):")
    for ra in sorted(between, key=lambda r: (layer_of(r), r)):
        marked = []
        for rb in sorted(between[ra], key=lambda r: (layer_of(r), r)):
            pairs = [(a, b) for a, b in upward | local if room(a, modules) == ra and room(b, modules) == rb]
            marks = "".join(sorted({"↑" if p in upward else "✗" for p in pairs}))
            marked.append(rb + marks)
        lines.append(f"    {ra} → {', '.join(marked)}")
    mutual = sorted({tuple(sorted((a, b))) for a in between for b in between[a] if a in between.get(b, ())})
    lines.append("folders importing each other: " + (", ".join(f"{a} ↔ {b}" for a, b in mutual) or "none"))
    long = long_modules()
    lines.append(
        f"modules over {MAX_LINES} lines: " + (", ".join(f"{p} ({n})" for p, n in long.items()) or "none")
    )
    return "\n".join(lines)


def test_the_drawing_shows_every_layer():
    drawn = drawing()
    print(drawn)
    assert all(title in drawn for title, _ in LAYERS) and "qa.index.milvus" in drawn


if __name__ == "__main__":
    print(drawing())
