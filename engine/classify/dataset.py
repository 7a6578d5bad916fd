"""The shipped training examples and the fingerprint that identifies a training set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from importlib import resources

from engine.categories import ALL_CATEGORIES
from engine.classify.text import LabelledText
from engine.errors import ConfigurationError

EXAMPLES_FILE = "examples.jsonl"
_FIELDS = ("subject", "body", "sender", "category")


def load_shipped_examples() -> list[LabelledText]:
    """Read the labelled examples shipped in ``engine/classify/data/examples.jsonl``."""
    text = resources.files("engine.classify.data").joinpath(EXAMPLES_FILE).read_text(encoding="utf-8")
    return parse_examples(text.splitlines(), origin=EXAMPLES_FILE)


def parse_examples(lines: Iterable[str], *, origin: str) -> list[LabelledText]:
    """Parse JSON Lines of ``{"subject", "body", "sender", "category"}``; blank lines are skipped."""
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{origin} line {number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or any(not isinstance(row.get(f), str) for f in _FIELDS):
            raise ConfigurationError(f"{origin} line {number}: needs string fields {', '.join(_FIELDS)}")
        if row["category"] not in ALL_CATEGORIES:
            raise ConfigurationError(f"{origin} line {number}: unknown category {row['category']!r}")
        examples.append(LabelledText(subject=row["subject"], body=row["body"], sender=row["sender"],
                                     category=row["category"]))
    return examples


def fingerprint(examples: Sequence[LabelledText], *, model_version: str) -> str:
    """A SHA-256 over the model version and every example (text, label, weight, source), in order."""
    digest = hashlib.sha256(model_version.encode("utf-8"))
    for example in examples:
        record = [example.subject, example.body, example.sender, example.category,
                  repr(float(example.weight)), example.source]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
