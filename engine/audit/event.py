"""One audit event, as stored and as exported.

The field list and their meaning are specified for outsiders in ``docs/audit-log.md``; the
canonical encoding and hash live in :mod:`engine.audit.chain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ``prev_hash`` of the first event in a chain.
GENESIS_HASH = "0" * 64

#: Destination of a step that kept everything on this machine.
LOCAL = "local"

#: Actor of events the engine caused on its own.
SYSTEM_ACTOR = "system"


def user_actor(display_name: str) -> str:
    """Actor string for a named person (``user:Alice Smith``)."""
    return f"user:{display_name}"


def provider_actor(name: str) -> str:
    """Actor string for an outside service acting on the engine's behalf (``provider:openai``)."""
    return f"provider:{name}"


@dataclass(frozen=True)
class NewAuditEvent:
    """An event before it is chained: what a step or a person wants recorded.

    ``detail`` must never contain message bodies or secrets, and holds only JSON strings,
    integers, booleans, null, lists and objects (no floats, so that every language encodes it
    the same way).
    """

    action: str
    outcome: str
    actor: str = SYSTEM_ACTOR
    run_id: str | None = None
    email_ref: str | None = None
    data_categories: tuple[str, ...] = ()
    destination: str = LOCAL
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEvent:
    """A chained event: ``hash`` = SHA-256 of the canonical encoding of every other field."""

    seq: int
    ts: str
    run_id: str | None
    email_ref: str | None
    actor: str
    action: str
    data_categories: tuple[str, ...]
    destination: str
    outcome: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str
