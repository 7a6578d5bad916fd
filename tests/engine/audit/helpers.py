"""Helpers for the audit tests: chains built with the engine's own sealing, secret stores, the tool."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from engine.audit.chain import seal
from engine.audit.event import GENESIS_HASH, AuditEvent, NewAuditEvent, provider_actor, user_actor
from engine.categories import DataCategory
from engine.errors import SecretStoreUnavailableError

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / "tools" / "verify_audit_export.py"
DOC = REPO / "docs" / "audit-log.md"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class DictSecretStore:
    """A SecretStore holding secrets in a dict."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.secrets.get(name)

    def set(self, name: str, value: str) -> None:
        self.secrets[name] = value

    def delete(self, name: str) -> None:
        self.secrets.pop(name, None)


class UnavailableSecretStore:
    """A SecretStore on a machine without a keyring."""

    def get(self, name: str) -> str | None:
        raise SecretStoreUnavailableError("no keyring")

    def set(self, name: str, value: str) -> None:
        raise SecretStoreUnavailableError("no keyring")

    def delete(self, name: str) -> None:
        raise SecretStoreUnavailableError("no keyring")


def new_event(i: int) -> NewAuditEvent:
    """A varied, realistic event number ``i`` (non-ASCII names, CSV-hostile references, nested detail)."""
    ref = f"<m{i}@example.co.uk>"
    kinds = [
        NewAuditEvent(
            action="email.received", outcome="stored", run_id=str(i), email_ref=ref,
            data_categories=(DataCategory.EMAIL_ADDRESS, DataCategory.SUBJECT), detail={"size": 1000 + i},
        ),
        NewAuditEvent(
            action="email.classified", outcome="complaint", run_id=str(i), email_ref=ref,
            data_categories=(DataCategory.CLASSIFICATION,),
            detail={"category": "complaint", "confidence_permille": 870, "reasons": ["keyword: refund"]},
        ),
        NewAuditEvent(
            action="crm.remote_logged", outcome="ok", actor=provider_actor("hubspot"), run_id=str(i),
            email_ref=f'odd, "ref"\r\n{i}', destination="api.hubapi.com",
            data_categories=(DataCategory.NAME, DataCategory.EMAIL_ADDRESS, DataCategory.NAME),
            detail={"contact": {"name": "Zoë O'Brien", "new": True}, "note": "line 1\nline 2\t\u001f"},
        ),
        NewAuditEvent(
            action="review.approved", outcome="approved", actor=user_actor("Zoë Ellis"), run_id=str(i),
            email_ref=ref, detail={"edited": False, "undo_window_s": 10, "n": -i},
        ),
        NewAuditEvent(action="settings.changed", outcome="ok", actor=user_actor("Ahmed"), detail={}),
    ]
    return kinds[i % len(kinds)]


def build_chain(n: int, *, start: datetime = START) -> list[AuditEvent]:
    """``n`` sealed events chained from the genesis hash."""
    return list(iter_chain(n, start=start))


def iter_chain(n: int, *, start: datetime = START, first_seq: int = 1, prev: str = GENESIS_HASH,
               make: Callable[[int], NewAuditEvent] = new_event) -> Iterator[AuditEvent]:
    """Seal ``n`` events lazily, one second apart."""
    for seq in range(first_seq, first_seq + n):
        event = seal(make(seq), seq=seq, ts=start + timedelta(seconds=seq), prev_hash=prev)
        prev = event.hash
        yield event


def load_tool() -> ModuleType:
    """The independent verifier, loaded as a module from its file (it is not a package)."""
    spec = importlib.util.spec_from_file_location("verify_audit_export", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module
