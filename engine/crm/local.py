"""Local CRM writes and reads (contacts and activities in the profile database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.storage.models import Activity, Contact, table_of

_CT = table_of(Contact)
_AC = table_of(Activity)

#: Domains of free mail services: the sender's domain says nothing about their company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "live.co.uk",
        "yahoo.com",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "aol.com",
        "btinternet.com",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "protonmail.com",
        "proton.me",
        "gmx.com",
        "mail.com",
    }
)


def company_from_address(address: str) -> str:
    """A company guess from the sender's domain (empty for free mail services)."""
    domain = address.rpartition("@")[2].lower()
    if not domain or domain in FREE_MAIL_DOMAINS:
        return ""
    return domain


def one_line_summary(category: str, subject: str, limit: int = 120) -> str:
    """The activity's one-line summary: category and subject, shortened."""
    line = " ".join(subject.split()) or "(no subject)"
    text = f"{category.capitalize()}: {line}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def upsert_contact(conn: Connection, *, email: str, name: str, seen_at: datetime) -> int:
    """Create the contact or update its name and last-seen time; return its id."""
    email = email.lower()
    row = conn.execute(
        select(_CT.c.id, _CT.c.name, _CT.c.first_seen, _CT.c.last_seen).where(_CT.c.email == email)
    ).first()
    if row is None:
        insert = postgresql.insert(_CT) if conn.dialect.name == "postgresql" else sqlite.insert(_CT)
        conn.execute(
            insert.values(
                email=email,
                name=name,
                company=company_from_address(email),
                first_seen=seen_at,
                last_seen=seen_at,
                activity_count=0,
            ).on_conflict_do_nothing()
        )
        return int(conn.execute(select(_CT.c.id).where(_CT.c.email == email)).scalar_one())
    values: dict[str, Any] = {}
    if name and not row.name:
        values["name"] = name
    if seen_at > row.last_seen:
        values["last_seen"] = seen_at
    if seen_at < row.first_seen:
        values["first_seen"] = seen_at
    if values:
        conn.execute(_CT.update().where(_CT.c.id == row.id).values(**values))
    return int(row.id)


def add_activity(
    conn: Connection,
    *,
    run_id: int,
    contact_id: int,
    category: str,
    summary: str,
    occurred_at: datetime,
    remote: dict[str, Any] | None,
) -> bool:
    """Log the run's activity once; return False when it was already logged."""
    insert = postgresql.insert(_AC) if conn.dialect.name == "postgresql" else sqlite.insert(_AC)
    result = conn.execute(
        insert.values(
            run_id=run_id,
            contact_id=contact_id,
            category=category,
            summary=summary,
            occurred_at=occurred_at,
            remote=remote,
        ).on_conflict_do_nothing()
    )
    if not result.rowcount:
        return False
    conn.execute(_CT.update().where(_CT.c.id == contact_id).values(activity_count=_CT.c.activity_count + 1))
    return True
