"""The shipped training examples: enough per category, no duplicates, well formed, not from the demo."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from engine.categories import ALL_CATEGORIES
from engine.classify.dataset import EXAMPLES_FILE, fingerprint, parse_examples
from engine.classify.text import LabelledText
from engine.errors import ConfigurationError

DATA_FILE = Path(__file__).resolve().parents[3] / "engine" / "classify" / "data" / EXAMPLES_FILE
DEMO_MANIFEST = Path(__file__).resolve().parents[3] / "connectors" / "demo" / "mailbox" / "manifest.json"
_ADDRESS = re.compile(r"^[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_every_category_has_at_least_60_examples(shipped: list[LabelledText]) -> None:
    counts = Counter(e.category for e in shipped)
    assert set(counts) == set(ALL_CATEGORIES)
    assert min(counts.values()) >= 60, counts
    assert len(shipped) >= 480


def test_no_duplicate_examples(shipped: list[LabelledText]) -> None:
    pairs = Counter((_norm(e.subject), _norm(e.body)) for e in shipped)
    bodies = Counter(_norm(e.body) for e in shipped)
    assert [p for p, n in pairs.items() if n > 1] == []
    assert [b for b, n in bodies.items() if n > 1] == []


def test_examples_are_well_formed(shipped: list[LabelledText]) -> None:
    for example in shipped:
        assert example.subject.strip() and example.body.strip(), example
        assert _ADDRESS.match(example.sender), example.sender
        assert example.source == "shipped" and example.weight == 1.0


def test_notifications_come_from_typical_automated_senders(shipped: list[LabelledText]) -> None:
    senders = [e.sender for e in shipped if e.category == "notification"]
    pattern = re.compile(r"no-?reply|donotreply|do-not-reply|notif|alert|mailer-daemon")
    automated = [s for s in senders if pattern.search(s)]
    assert len(automated) >= len(senders) // 2


def test_file_is_small_and_utf8() -> None:
    raw = DATA_FILE.read_bytes()
    assert len(raw) < 1_000_000
    raw.decode("utf-8")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not valid JSON"),
        (json.dumps({"subject": "s", "body": "b", "category": "order"}), "needs string fields"),
        (json.dumps({"subject": "s", "body": "b", "sender": "a@b.uk", "category": "urgent"}),
         "unknown category"),
    ],
)
def test_parse_examples_names_the_bad_line(line: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_examples([line], origin="x.jsonl")


def test_parse_examples_skips_blank_lines() -> None:
    row = json.dumps({"subject": "s", "body": "b", "sender": "a@b.uk", "category": "order"})
    assert parse_examples(["", row, "  "], origin="x") == [LabelledText("s", "b", "a@b.uk", "order")]


def test_fingerprint_covers_every_field() -> None:
    base = LabelledText("s", "b", "a@b.uk", "order")
    variants = [
        LabelledText("s2", "b", "a@b.uk", "order"),
        LabelledText("s", "b2", "a@b.uk", "order"),
        LabelledText("s", "b", "c@b.uk", "order"),
        LabelledText("s", "b", "a@b.uk", "billing"),
        LabelledText("s", "b", "a@b.uk", "order", weight=2.0),
        LabelledText("s", "b", "a@b.uk", "order", source="correction"),
    ]
    reference = fingerprint([base], model_version="v1")
    assert fingerprint([base], model_version="v1") == reference
    assert fingerprint([base], model_version="v2") != reference
    assert all(fingerprint([v], model_version="v1") != reference for v in variants)


def test_training_data_does_not_copy_the_demo_mailbox(shipped: list[LabelledText]) -> None:
    if not DEMO_MANIFEST.exists():
        pytest.skip("the demo mailbox is not in this checkout")
    from engine.mail.model import ParsedEmail
    from engine.mail.parse import parse_message

    training_bodies = {_norm(e.body) for e in shipped}
    training_subjects = {_norm(e.subject) for e in shipped}
    for path in DEMO_MANIFEST.parent.rglob("*.eml"):
        parsed = parse_message(path.read_bytes())
        if not isinstance(parsed, ParsedEmail):
            continue
        body = _norm(parsed.body_text)
        assert not body or body not in training_bodies, path.name
        assert not (_norm(parsed.subject) in training_subjects
                    and any(b and b in body for b in training_bodies if len(b) > 80)), path.name
