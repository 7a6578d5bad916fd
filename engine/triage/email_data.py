"""A run's email as the steps need it: parsed once, kept in the drive's scratch, stored as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from engine.durable.step import RunInfo, StepContext
from engine.errors import InvalidStateError
from engine.mail.model import Address, Attachment, ParsedEmail
from engine.storage.models import EmailContent, table_of

_EC = table_of(EmailContent)

_PARSED = "parsed_email"
_RAW = "raw"


def _addr(a: Address | None) -> list[str] | None:
    return None if a is None else [a.name, a.email]


def _from_addr(v: Any) -> Address | None:
    return None if not v else Address(name=str(v[0]), email=str(v[1]))


def parsed_to_json(email: ParsedEmail) -> dict[str, Any]:
    """A JSON form of a parsed email (stored with the message content; purged with it)."""
    return {
        "message_id": email.message_id,
        "subject": email.subject,
        "sender": _addr(email.sender),
        "reply_to": [_addr(a) for a in email.reply_to],
        "to": [_addr(a) for a in email.to],
        "cc": [_addr(a) for a in email.cc],
        "date": email.date.isoformat() if email.date else None,
        "in_reply_to": email.in_reply_to,
        "references": list(email.references),
        "attachments": [[a.filename, a.content_type, a.size] for a in email.attachments],
        "auto_submitted": email.auto_submitted,
        "list_id": email.list_id,
        "headers": [list(h) for h in email.headers],
        "defects": list(email.defects),
    }


def parsed_from_json(data: dict[str, Any], body_text: str | None, body_html: str | None) -> ParsedEmail:
    """Rebuild a ParsedEmail from :func:`parsed_to_json` output and the stored body columns."""

    def addrs(key: str) -> tuple[Address, ...]:
        return tuple(a for a in (_from_addr(v) for v in data.get(key) or []) if a is not None)

    date = data.get("date")
    return ParsedEmail(
        message_id=data.get("message_id"),
        subject=data.get("subject") or "",
        sender=_from_addr(data.get("sender")),
        reply_to=addrs("reply_to"),
        to=addrs("to"),
        cc=addrs("cc"),
        date=datetime.fromisoformat(date) if date else None,
        in_reply_to=data.get("in_reply_to"),
        references=tuple(data.get("references") or ()),
        body_text=body_text or "",
        body_html=body_html,
        attachments=tuple(Attachment(str(a[0]), str(a[1]), int(a[2])) for a in data.get("attachments") or []),
        auto_submitted=bool(data.get("auto_submitted")),
        list_id=data.get("list_id"),
        headers=tuple((str(h[0]), str(h[1])) for h in data.get("headers") or []),
        defects=tuple(data.get("defects") or ()),
    )


_RAW_QUERY = select(_EC.c.raw).where(_EC.c.email_id == bindparam("b_key"))
_PARSED_QUERY = select(_EC.c.parsed, _EC.c.body_text, _EC.c.body_html).where(
    _EC.c.email_id == bindparam("b_key")
)


def read_parsed(conn: Connection, email_id: int) -> ParsedEmail | None:
    """The stored parsed form of an email (None before parsing or after a retention purge)."""
    row = conn.execute(_PARSED_QUERY, {"b_key": email_id}).first()
    if row is None or not isinstance(row.parsed, dict):
        return None
    return parsed_from_json(row.parsed, row.body_text, row.body_html)


def preload(conn: Connection, run: RunInfo, step_index: int) -> dict[str, Any]:
    """What the next steps of a run need, read in the runner's load transaction (one round trip).

    A run about to be parsed needs its raw bytes; a later one the parsed email.
    """
    if step_index == 0:
        raw = conn.execute(_RAW_QUERY, {"b_key": run.email_id}).scalar_one_or_none()
        return {} if raw is None else {_RAW: bytes(raw)}
    parsed = read_parsed(conn, run.email_id)
    return {} if parsed is None else {_PARSED: parsed}


def raw_bytes(ctx: StepContext[Any]) -> bytes:
    """The message's stored bytes."""
    cached = ctx.scratch.get(_RAW)
    if isinstance(cached, bytes):
        return cached
    with ctx.db.read() as conn:
        raw = conn.execute(_RAW_QUERY, {"b_key": ctx.run.email_id}).scalar_one_or_none()
    if raw is None:
        raise InvalidStateError(f"run {ctx.run.run_id}: the message content is no longer stored (purged)")
    return bytes(raw)


def remember_parsed(ctx: StepContext[Any], email: ParsedEmail) -> None:
    """Keep the parsed email for the rest of this drive."""
    ctx.scratch[_PARSED] = email


def parsed_email(ctx: StepContext[Any]) -> ParsedEmail:
    """The run's parsed email, from this drive's scratch or the database."""
    cached = ctx.scratch.get(_PARSED)
    if isinstance(cached, ParsedEmail):
        return cached
    with ctx.db.read() as conn:
        email = read_parsed(conn, ctx.run.email_id)
    if email is None:
        raise InvalidStateError(f"run {ctx.run.run_id}: the parsed message is no longer stored (purged)")
    remember_parsed(ctx, email)
    return email
