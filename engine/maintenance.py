"""Once-a-day housekeeping: sign the audit head and apply the retention period.

Runs at the end of a poll (serve, the desktop's scheduler, ``run --once``); the day it last ran is
remembered in the settings table so it happens once per UTC day, whichever process polls first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine import audit_ops
from engine.audit.signing import Anchor, AnchorSigner
from engine.errors import SecretStoreUnavailableError
from engine.ports import SecretStore
from engine.settings_store import read_raw, write_raw
from engine.storage.db import Database

LAST_RUN_KEY = "maintenance_day"


@dataclass(frozen=True)
class MaintenanceReport:
    """What the day's housekeeping did."""

    day: str
    anchor: Anchor | None
    purged_messages: int
    warning: str | None


def run_daily(
    db: Database, *, secrets: SecretStore | None, retention_days: int, now: datetime
) -> MaintenanceReport | None:
    """Anchor the audit head and purge old content, unless already done today (then None)."""
    day = now.date().isoformat()
    with db.read() as conn:
        if read_raw(conn, LAST_RUN_KEY) == day:
            return None
    anchor: Anchor | None = None
    warning: str | None = None
    if secrets is None:
        warning = "the audit head was not signed: no secret store is configured"
    else:
        try:
            anchor = audit_ops.anchor_daily(db, AnchorSigner(secrets), now=now)
        except SecretStoreUnavailableError as exc:
            warning = f"the audit head was not signed today: {exc}"
    record = audit_ops.purge(db, retention_days=retention_days, now=now)
    with db.write() as conn:
        write_raw(conn, LAST_RUN_KEY, day, actor=None, audit=False)
    return MaintenanceReport(day=day, anchor=anchor, purged_messages=record.messages, warning=warning)
