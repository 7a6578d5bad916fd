"""docs/audit-log.md cannot drift from the code: its worked examples are parsed and checked here."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.audit.chain import event_canonical_bytes, field_problem, hash_of
from engine.audit.event import GENESIS_HASH, AuditEvent
from engine.audit.export import read_export, verify_export
from engine.audit.export_format import CSV_COLUMNS, EXPORT_FORMAT
from engine.audit.signing import ANCHOR_PREFIX, SIGNING_KEY_NAME, Anchor, verify_anchor
from engine.audit.verify import verify_chain
from engine.categories import DataCategory
from tests.engine.audit.helpers import DOC

_FENCE = re.compile(r"^```[a-z]+ (audit-[a-z0-9-]+)\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def doc() -> str:
    """The specification's text."""
    return DOC.read_text("utf-8")


@pytest.fixture(scope="module")
def blocks(doc: str) -> dict[str, str]:
    """Every fenced block tagged ``audit-…``, by tag."""
    found = dict(_FENCE.findall(doc))
    assert len(found) == len(_FENCE.findall(doc)), "a block tag is used twice"
    return found


def _event(blocks: dict[str, str], n: int) -> AuditEvent:
    obj: dict[str, Any] = json.loads(blocks[f"audit-example-{n}-event"])
    return AuditEvent(**{**obj, "data_categories": tuple(obj["data_categories"])})


def test_the_document_is_nfc_text(doc: str) -> None:
    assert unicodedata.is_normalized("NFC", doc)


@pytest.mark.parametrize("n", [1, 2])
def test_worked_examples_match_the_code_byte_for_byte(
    blocks: dict[str, str], n: int, tool: ModuleType
) -> None:
    event = _event(blocks, n)
    canonical = blocks[f"audit-example-{n}-canonical"].encode("utf-8")
    digest = blocks[f"audit-example-{n}-sha256"].strip()
    assert field_problem(event) is None
    assert event_canonical_bytes(event) == canonical
    assert hashlib.sha256(canonical).hexdigest() == digest == event.hash == hash_of(event)
    as_read = json.loads(blocks[f"audit-example-{n}-event"])
    assert tool.event_hash(as_read) == digest


def test_the_stated_byte_counts_are_right(doc: str, blocks: dict[str, str]) -> None:
    for n in (1, 2):
        size = len(blocks[f"audit-example-{n}-canonical"].encode("utf-8"))
        assert f"({size} bytes" in doc, f"example {n} is {size} bytes"


def test_the_examples_form_a_chain(blocks: dict[str, str]) -> None:
    events = [_event(blocks, 1), _event(blocks, 2)]
    assert events[0].prev_hash == GENESIS_HASH
    assert verify_chain(events).ok


def test_the_anchor_example_verifies_and_is_reproducible(blocks: dict[str, str]) -> None:
    anchor = Anchor.from_json(json.loads(blocks["audit-example-anchor"]))
    assert anchor.message().decode("ascii") == blocks["audit-example-anchor-message"]
    assert anchor.head_hash == _event(blocks, 2).hash
    assert verify_anchor(anchor)
    demo_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # "the 32 bytes 00 01 02 … 1f"
    assert base64.b64encode(demo_key.public_key().public_bytes_raw()).decode() == anchor.public_key_b64
    assert base64.b64encode(demo_key.sign(anchor.message())).decode() == anchor.signature_b64


def test_the_export_example_verifies_with_both_verifiers(
    blocks: dict[str, str], tmp_path: Path, tool: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "example.jsonl"
    path.write_text(blocks["audit-example-export-jsonl"] + "\n", "utf-8", newline="")
    result = verify_export(path)
    assert result.ok and result.signed and result.reaches_head and result.count == 2
    _, events = read_export(path)
    assert list(events) == [_event(blocks, 1), _event(blocks, 2)]
    assert tool.main([str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"OK: 2 events, head {_event(blocks, 2).hash} (signed by ")


def test_the_document_names_the_constants_the_code_uses(doc: str) -> None:
    assert ",".join(CSV_COLUMNS) in doc
    assert f"`{EXPORT_FORMAT}`" in doc
    assert f"`{ANCHOR_PREFIX}:{{seq}}:{{head_hash}}:{{signed_at}}`" in doc
    assert f"`{SIGNING_KEY_NAME}`" in doc
    assert GENESIS_HASH in doc
    for category in DataCategory:
        assert f"| `{category.value}` |" in doc, f"data category {category.value} is not documented"
