"""What a retention purge records in the audit log (no database work here).

Retention removes message content (bodies, raw bytes, drafts) older than the configured period;
the audit events themselves stay, so the chain keeps verifying. The purge is itself an audit
event whose ``detail`` says what went: how many messages, the oldest and newest of them, and the
retention period — never which messages' content, which would itself be personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit.chain import format_ts
from engine.audit.event import SYSTEM_ACTOR, NewAuditEvent
from engine.categories import DataCategory

__all__ = ["PURGE_ACTION", "PurgeRecord"]

#: ``action`` of the audit event a retention purge records.
PURGE_ACTION = "retention.purged"

#: What a purge removes, as data categories.
PURGED_DATA: tuple[str, ...] = (
    DataCategory.MESSAGE_BODY.value,
    DataCategory.ATTACHMENT_METADATA.value,
    DataCategory.DRAFT_REPLY.value,
)


@dataclass(frozen=True)
class PurgeRecord:
    """One purge: ``messages`` messages received from ``oldest`` to ``newest`` lost their content.

    ``cutoff`` is the moment before which content was purged (now minus ``retention_days``).
    ``oldest``/``newest`` are None when nothing was old enough.
    """

    messages: int
    retention_days: int
    cutoff: datetime
    oldest: datetime | None = None
    newest: datetime | None = None

    def __post_init__(self) -> None:
        """Refuse impossible records (negative counts, dates given for zero messages or missing)."""
        if self.messages < 0 or self.retention_days < 0:
            raise ValueError("messages and retention_days cannot be negative")
        if (self.messages == 0) != (self.oldest is None and self.newest is None):
            raise ValueError("oldest and newest are given exactly when messages were purged")
        if (self.oldest is None) != (self.newest is None):
            raise ValueError("give both oldest and newest, or neither")

    def detail(self) -> dict[str, Any]:
        """The audit ``detail``: counts and dates as audit time stamps (integers and strings only)."""
        return {
            "messages_purged": self.messages,
            "retention_days": self.retention_days,
            "cutoff": format_ts(self.cutoff),
            "oldest_received": format_ts(self.oldest) if self.oldest else None,
            "newest_received": format_ts(self.newest) if self.newest else None,
        }

    def event(self, *, actor: str = SYSTEM_ACTOR) -> NewAuditEvent:
        """The audit event to append in the purge's own transaction."""
        return NewAuditEvent(
            action=PURGE_ACTION,
            outcome="ok" if self.messages else "nothing_to_purge",
            actor=actor,
            data_categories=PURGED_DATA if self.messages else (),
            detail=self.detail(),
        )
