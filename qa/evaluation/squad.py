"""Public reading-comprehension sets (SQuAD-style JSON: CMRC 2018, DRCD, DuReader-robust) as a corpus plus questions.

Each ``data[]`` entry becomes one plain-text document: its title as the
headline, its paragraphs as paragraphs, so it is indexed and cited through the
same code as any user's folder. Questions keep the set's own ids and every
distinct gold answer text; a passage is relevant when it is in the question's
document and holds a gold answer.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError
from qa.evaluation.questions import Question
from qa.index.files import replace_atomically
from qa.settings import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class SquadSet:
    """Documents by file name (text as written to the corpus folder) and the questions over them."""

    documents: dict[str, str]
    questions: list[Question]


def _document_name(n: int, entry_id: object) -> str:
    tail = _UNSAFE.sub("_", str(entry_id or ""))[:40].strip("_")
    return f"{n:04d}_{tail}.txt" if tail else f"{n:04d}.txt"


def _document_text(title: str, contexts: list[str]) -> str:
    paragraphs = [" ".join(c.split()) for c in contexts]
    return "\n\n".join([" ".join(title.split()) or "（无标题）", *[p for p in paragraphs if p]]) + "\n"


def load_squad(path: Path) -> SquadSet:
    """Read a SQuAD-style file; raises InputError naming what is wrong with it."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(
            f"SQuAD file {path} not found: give --squad FILE (e.g. cmrc2018_trial.json)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path} is not a readable JSON file: {exc}") from exc
    entries = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(
            f'{path} has no data[] list: expected SQuAD-style JSON ({{"data": [{{"title", "paragraphs"}}]}})'
        )
    documents: dict[str, str] = {}
    questions: list[Question] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        try:
            paragraphs = entry["paragraphs"]
            contexts = [str(p["context"]) for p in paragraphs]
            name = _document_name(n, entry.get("id") or (paragraphs[0].get("id") if paragraphs else None))
            documents[name] = _document_text(str(entry.get("title", "")), contexts)
            for p in paragraphs:
                for qa in p.get("qas", []):
                    # Spaced as the corpus file holds it (``_document_text``): 王\u3000晶 is 王 晶 there.
                    answers = tuple(
                        dict.fromkeys(
                            " ".join(a["text"].split()) for a in qa.get("answers", []) if a["text"].strip()
                        )
                    )
                    qid = str(qa["id"])
                    if qid in seen:
                        qid = f"{qid}#{n}"
                    seen.add(qid)
                    question = " ".join(str(qa["question"]).split())
                    if question:
                        questions.append(Question(qid, question, answers, name, "squad"))
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{path}: data[{n}] is not a SQuAD entry (missing {exc}); expected title, paragraphs[].context, .qas[]"
            ) from exc
    if not questions:
        raise InputError(f"{path} holds no questions")
    return SquadSet(documents, questions)


def sample(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    """``limit`` questions drawn with ``seed`` (all of them, in file order, without a limit)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    picked = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in picked]


def sample_documents(squad: SquadSet, limit: int | None, seed: int) -> SquadSet:
    """``limit`` documents drawn with ``seed`` and only their questions: a corpus small enough to index in CI."""
    if limit is None or limit >= len(squad.documents):
        return squad
    names = sorted(random.Random(seed).sample(sorted(squad.documents), limit))
    keep = set(names)
    return SquadSet({n: squad.documents[n] for n in names}, [q for q in squad.questions if q.doc in keep])


def default_work_dir(path: Path, variant: str = "") -> Path:
    """``.wenyuan-squad/<stem>-<hash><variant>``: one folder per file (and sample), so a rerun updates the same index."""
    digest = hashlib.sha256(str(Path(path).resolve()).encode("utf-8")).hexdigest()[:8]
    return Path(".wenyuan-squad") / f"{Path(path).stem}-{digest}{variant}"


def write_corpus(squad: SquadSet, folder: Path) -> None:
    """Make ``folder`` hold exactly the set's documents, rewriting only those that differ (so the index updates incrementally)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in squad.documents.items():
        target = folder / name
        data = text.encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            continue
        replace_atomically(target, lambda out: out.write(data))
    for stale in folder.glob("*.txt"):
        if stale.name not in squad.documents:
            stale.unlink()


def index_squad(
    path: Path,
    settings: Settings,
    work_dir: Path | None = None,
    progress: bool = True,
    documents: int | None = None,
    seed: int = 0,
) -> tuple[SquadSet, Settings]:
    """Load the set, write its corpus folder and bring its index up to date (only changed documents are embedded).

    The index goes to ``settings.index_dir`` when it was set explicitly, else beside the corpus in ``work_dir``.
    """
    from embeddings.factory import load_embedder
    from qa.index.factory import build
    from qa.index.writer_lock import hold
    from qa.render import render_index_report

    squad = sample_documents(load_squad(path), documents, seed)
    work = work_dir or default_work_dir(path, "" if documents is None else f"-{documents}docs-seed{seed}")
    write_corpus(squad, work / "corpus")
    if "index_dir" not in settings.model_fields_set:
        settings = settings.model_copy(update={"index_dir": work / "index"})
    with hold(settings.index_dir, settings.index_lock_wait) as lock:
        embedder = load_embedder(settings.model, settings.query_prefix, settings.passage_prefix)
        report = build(work / "corpus", settings, embedder, progress=progress, lock=lock)
    print(render_index_report(report, settings.index_dir), file=sys.stderr)
    return squad, settings
