"""Reading and writing settings sections in the database, each change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from engine.audit.event import NewAuditEvent, user_actor
from engine.settings import (
    OfficeSettings,
    Policy,
    RetentionSettings,
    ScheduleSettings,
    office_from_json,
    policies_from_json,
    retention_from_json,
    schedule_from_json,
    section_to_json,
)
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import Setting, table_of
from engine.storage.types import utcnow

_S = table_of(Setting)

OFFICE = "office"
POLICIES = "policies"
RETENTION = "retention"
SCHEDULE = "schedule"
RULES = "classifier_rules"
INSTALL_ID = "install_id"


def read_raw(conn: Connection, key: str) -> Any:
    """The stored JSON of one section, or None."""
    return conn.execute(select(_S.c.value).where(_S.c.key == key)).scalar_one_or_none()


def write_raw(conn: Connection, key: str, value: Any, *, actor: str | None, audit: bool = True) -> None:
    """Store one section and record who changed it (the audit event names the key, not the values)."""
    now = utcnow()
    exists = conn.execute(select(_S.c.key).where(_S.c.key == key)).first() is not None
    if exists:
        conn.execute(_S.update().where(_S.c.key == key).values(value=value, updated_at=now))
    else:
        conn.execute(_S.insert().values(key=key, value=value, updated_at=now))
    if audit:
        audit_repo.append(
            conn,
            [
                NewAuditEvent(
                    action="settings.changed",
                    outcome="ok",
                    actor=user_actor(actor) if actor else "system",
                    detail={"section": key},
                )
            ],
            now=now,
        )


class SettingsStore:
    """Typed access to the settings sections."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.generation = 0

    def _read(self, key: str) -> Any:
        with self._db.read() as conn:
            return read_raw(conn, key)

    def office(self) -> OfficeSettings:
        """The office section (defaults when never saved)."""
        return office_from_json(self._read(OFFICE))

    def policies(self) -> dict[str, Policy]:
        """Policies per category, defaults filled in."""
        return policies_from_json(self._read(POLICIES))

    def retention(self) -> RetentionSettings:
        """The retention section."""
        return retention_from_json(self._read(RETENTION))

    def schedule(self) -> ScheduleSettings:
        """The polling schedule."""
        return schedule_from_json(self._read(SCHEDULE))

    def rules(self) -> list[dict[str, str]]:
        """The classifier's user rules as stored (validated by the classifier when loaded)."""
        raw = self._read(RULES)
        return [dict(r) for r in raw] if isinstance(raw, list) else []

    def section(self, key: str) -> Any:
        """Any other section's raw JSON (used by connector settings)."""
        return self._read(key)

    def save_office(self, office: OfficeSettings, *, actor: str | None) -> None:
        """Validate and store the office section."""
        office.validate()
        self._write(OFFICE, section_to_json(office), actor)

    def save_policy(self, policy: Policy, *, actor: str | None) -> None:
        """Validate and store one category's policy."""
        policy.validate()
        policies = self.policies()
        policies[policy.category] = policy
        self._write(POLICIES, {c: section_to_json(p) for c, p in policies.items()}, actor)

    def save_retention(self, retention: RetentionSettings, *, actor: str | None) -> None:
        """Validate and store the retention section."""
        retention.validate()
        self._write(RETENTION, section_to_json(retention), actor)

    def save_schedule(self, schedule: ScheduleSettings, *, actor: str | None) -> None:
        """Validate and store the schedule."""
        schedule.validate()
        self._write(SCHEDULE, section_to_json(schedule), actor)

    def save_rules(self, rules: list[dict[str, str]], *, actor: str | None) -> None:
        """Store classifier rules (validate them with engine.classify before calling)."""
        self._write(RULES, rules, actor)

    def save_section(self, key: str, value: Any, *, actor: str | None) -> None:
        """Store any other section's JSON (connector settings; never secrets)."""
        self._write(key, value, actor)

    def _write(self, key: str, value: Any, actor: str | None) -> None:
        with self._db.write() as conn:
            write_raw(conn, key, value, actor=actor)
        self.generation += 1
