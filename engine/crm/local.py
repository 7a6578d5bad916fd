"""Local CRM writes and reads (contacts and activities in the profile database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from engine.storage.models import Activity, Contact, table_of
from engine.storage.statements import insert_ignore, update_by

_CT = table_of(Contact)
_AC = table_of(Activity)
_FIND_CONTACT = select(_CT.c.id, _CT.c.name, _CT.c.first_seen, _CT.c.last_seen).where(
    _CT.c.email == bindparam("b_key")
)
_COUNT_ACTIVITY = (
    _CT.update().where(_CT.c.id == bindparam("b_key")).values(activity_count=_CT.c.activity_count + 1)
)

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
    row = conn.execute(_FIND_CONTACT, {"b_key": email}).first()
    if row is None:
        conn.execute(
            insert_ignore(_CT, conn.dialect.name),
            {
                "email": email,
                "name": name,
                "company": company_from_address(email),
                "first_seen": seen_at,
                "last_seen": seen_at,
                "activity_count": 0,
            },
        )
        return int(conn.execute(_FIND_CONTACT, {"b_key": email}).first().id)  # type: ignore[union-attr]
    values: dict[str, Any] = {}
    if name and not row.name:
        values["name"] = name
    if seen_at > row.last_seen:
        values["last_seen"] = seen_at
    if seen_at < row.first_seen:
        values["first_seen"] = seen_at
    if values:
        conn.execute(update_by(_CT, "id"), {"b_key": row.id, **values})
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
    result = conn.execute(
        insert_ignore(_AC, conn.dialect.name),
        {
            "run_id": run_id,
            "contact_id": contact_id,
            "category": category,
            "summary": summary,
            "occurred_at": occurred_at,
            "remote": remote,
        },
    )
    if not result.rowcount:
        return False
    conn.execute(_COUNT_ACTIVITY, {"b_key": contact_id})
    return True
