"""The evaluation question file: JSON Lines of ``{id, question, answers, doc, type, expects}``.

``expects`` names the kind of answer the question asks for, so answer selection and declines can be
measured per kind; it is optional (absent or null for yes/no and explanation questions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError

SHIPPED = Path(__file__).resolve().parents[2] / "tests" / "data" / "questions.jsonl"
EXPECTS = ("person", "number", "place", "date", "phrase")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    doc: str | None
    type: str
    expects: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def relevant(self, doc: str, text: str) -> bool:
        """A passage is relevant when it holds an expected answer (in the named document)."""
        if self.doc is not None and doc != self.doc:
            return False
        return any(a in text for a in self.answers)


def load_questions(path: Path) -> list[Question]:
    if not path.is_file():
        raise InputError(f"question file {path} not found: give --questions FILE (JSON Lines)")
    out: list[Question] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(
                str(row["id"]),
                str(row["question"]),
                tuple(row["answers"]),
                row.get("doc"),
                str(row.get("type", "")),
                row.get("expects"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path}:{n}: not a question object ({exc}); expected id, question, answers, doc, type"
            ) from exc
        if q.expects is not None and q.expects not in EXPECTS:
            raise InputError(
                f"{path}:{n}: expects must be one of {', '.join(EXPECTS)} or null, not {q.expects!r}"
            )
        if q.id in seen:
            raise InputError(f"{path}:{n}: duplicate id {q.id!r}")
        seen.add(q.id)
        out.append(q)
    if not out:
        raise InputError(f"{path} holds no questions")
    return out
