"""The read API the command line and the desktop use: paged, sorted and filtered in SQL.

Nothing here writes. Every list takes ``limit``/``offset`` so views fetch only what they show;
filters and sort orders map to indexed columns.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from engine.audit.event import AuditEvent
from engine.durable.states import RunState
from engine.errors import NotFoundError
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import (
    Activity,
    AuditEventRow,
    Contact,
    Decision,
    Draft,
    Email,
    EmailContent,
    Run,
    StepCheckpoint,
    table_of,
)

_R = table_of(Run)
_EM = table_of(Email)
_EC = table_of(EmailContent)
_D = table_of(Draft)
_DEC = table_of(Decision)
_CT = table_of(Contact)
_AC = table_of(Activity)
_AU = table_of(AuditEventRow)
_CP = table_of(StepCheckpoint)


@dataclass(frozen=True)
class RunSummary:
    """One row of the Activity view / ``runs list``."""

    run_id: int
    state: str
    step: str | None
    category: str | None
    confidence: float | None
    message_id: str | None
    sender: str | None
    sender_name: str | None
    subject: str | None
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime
    waiting_since: datetime | None
    next_attempt_at: datetime | None
    attempt: int
    error: str | None
    error_kind: str | None
    outcome: str | None
    flags: tuple[str, ...]
    account: str


@dataclass(frozen=True)
class DraftView:
    """The draft reply as staff see it."""

    to: tuple[str, ...]
    subject: str
    body: str
    template: str | None
    source: str
    findings: tuple[str, ...]
    sent_at: datetime | None
    sent_message_id: str | None


@dataclass(frozen=True)
class DecisionView:
    """A decision taken on a run."""

    decision: str
    actor: str
    reason: str | None
    edited: bool
    decided_at: datetime
    effective_at: datetime
    undone_at: datetime | None


@dataclass(frozen=True)
class QueueItemDetail:
    """Everything the review pane shows for one item."""

    summary: RunSummary
    body_text: str | None
    body_html: str | None
    reasons: tuple[str, ...]
    classification_source: str | None
    attachments: tuple[tuple[str, str, int], ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    draft: DraftView | None
    decisions: tuple[DecisionView, ...]
    history: tuple[AuditEvent, ...]
    content_purged: bool


@dataclass(frozen=True)
class ContactRow:
    """A local CRM contact."""

    contact_id: int
    email: str
    name: str
    company: str
    first_seen: datetime
    last_seen: datetime
    activity_count: int


@dataclass(frozen=True)
class ActivityRow:
    """A local CRM activity; ``run_id`` names the run that logged it."""

    activity_id: int
    run_id: int
    contact_email: str
    contact_name: str
    category: str
    summary: str
    occurred_at: datetime
    remote: dict[str, Any] | None


@dataclass(frozen=True)
class AuditFilter:
    """Audit log filters; all optional, combined with AND. Times are RFC 3339 UTC strings."""

    since: str | None = None
    until: str | None = None
    actions: tuple[str, ...] = ()
    actor: str | None = None
    run_id: str | None = None
    email_address: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class StateCounts:
    """How many runs are in each state."""

    counts: dict[str, int] = field(default_factory=dict)

    def get(self, state: str) -> int:
        """Count for one state (0 when none)."""
        return self.counts.get(state, 0)


@dataclass(frozen=True)
class AuditPage:
    """One page of audit events, newest first, and where the next page starts.

    ``next_before`` is the ``before_seq`` of the next page (None when nothing older is left);
    ``scanned_to`` is the lowest seq examined so far, for a progress indication of text searches.
    """

    events: list[AuditEvent]
    next_before: int | None
    scanned_to: int


#: Sequence numbers a text search examines per query (about 20 ms of scanning on SQLite).
AUDIT_SCAN_WINDOW = 20_000
#: A text search returns after about this long, even with nothing found; once it has found
#: something it returns after a quarter of it, so the first matches show early.
AUDIT_SCAN_BUDGET_S = 0.2


_SUMMARY_COLUMNS = (
    _R.c.id,
    _R.c.state,
    _R.c.step_name,
    _R.c.category,
    _R.c.confidence,
    _R.c.created_at,
    _R.c.updated_at,
    _R.c.waiting_since,
    _R.c.next_attempt_at,
    _R.c.attempt,
    _R.c.error,
    _R.c.error_kind,
    _R.c.outcome,
    _R.c.flags,
    _EM.c.message_id,
    _EM.c.sender_email,
    _EM.c.sender_name,
    _EM.c.subject,
    _EM.c.received_at,
    _EM.c.account,
    _EM.c.ingested_at,
)


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        run_id=int(row.id),
        state=row.state,
        step=row.step_name,
        category=row.category,
        confidence=row.confidence,
        message_id=row.message_id,
        sender=row.sender_email,
        sender_name=row.sender_name,
        subject=row.subject,
        received_at=row.received_at or row.ingested_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        waiting_since=row.waiting_since,
        next_attempt_at=row.next_attempt_at,
        attempt=int(row.attempt),
        error=row.error,
        error_kind=row.error_kind,
        outcome=row.outcome,
        flags=tuple(row.flags or ()),
        account=row.account,
    )


def _runs_query() -> Select[Any]:
    return select(*_SUMMARY_COLUMNS).join(_EM, _EM.c.id == _R.c.email_id)


class Queries:
    """Read-only views over the profile database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- runs ----------------------------------------------------------------------------------

    def runs(
        self,
        *,
        states: Sequence[str] = (),
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[RunSummary]:
        """Runs, optionally only in some states or matching sender/subject text."""
        query = _runs_query()
        if states:
            query = query.where(_R.c.state.in_(list(states)))
        if text:
            like = f"%{text.lower()}%"
            query = query.where(
                or_(
                    func.lower(_EM.c.subject).like(like),
                    func.lower(_EM.c.sender_email).like(like),
                    func.lower(_EM.c.sender_name).like(like),
                )
            )
        query = query.order_by(_R.c.id.desc() if newest_first else _R.c.id).limit(limit).offset(offset)
        with self._db.read() as conn:
            return [_summary(r) for r in conn.execute(query)]

    def count_runs(self, *, states: Sequence[str] = ()) -> int:
        """How many runs (in the given states)."""
        query = select(func.count()).select_from(_R)
        if states:
            query = query.where(_R.c.state.in_(list(states)))
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def state_counts(self) -> StateCounts:
        """Number of runs per state."""
        with self._db.read() as conn:
            rows = conn.execute(select(_R.c.state, func.count()).group_by(_R.c.state)).fetchall()
        return StateCounts({str(r[0]): int(r[1]) for r in rows})

    def run(self, run_id: int) -> RunSummary:
        """One run's summary."""
        with self._db.read() as conn:
            row = conn.execute(_runs_query().where(_R.c.id == run_id)).first()
        if row is None:
            raise NotFoundError(f"there is no run {run_id}")
        return _summary(row)

    # --- the review queue ----------------------------------------------------------------------

    def queue(self, *, limit: int = 200, offset: int = 0) -> list[RunSummary]:
        """Items waiting for review: complaints first, then the longest-waiting."""
        query = (
            _runs_query()
            .where(_R.c.state == RunState.WAITING_REVIEW.value)
            .order_by(_R.c.priority.desc(), _R.c.waiting_since, _R.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._db.read() as conn:
            return [_summary(r) for r in conn.execute(query)]

    def queue_count(self, *, category: str | None = None) -> int:
        """How many items wait for review (of ``category`` only, when given)."""
        if category is None:
            return self.count_runs(states=(RunState.WAITING_REVIEW.value,))
        query = (
            select(func.count())
            .select_from(_R)
            .where(_R.c.state == RunState.WAITING_REVIEW.value, _R.c.category == category)
        )
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def queue_item(self, run_id: int) -> QueueItemDetail:
        """The whole picture of one run for the review pane or ``queue show``."""
        summary = self.run(run_id)
        with self._db.read() as conn:
            content = conn.execute(
                select(_EC.c.body_text, _EC.c.body_html, _EC.c.parsed)
                .join(_R, _R.c.email_id == _EC.c.email_id)
                .where(_R.c.id == run_id)
            ).first()
            draft = conn.execute(select(_D).where(_D.c.run_id == run_id)).first()
            decisions = conn.execute(
                select(_DEC).where(_DEC.c.run_id == run_id).order_by(_DEC.c.id)
            ).fetchall()
            classified = conn.execute(
                select(_CP.c.output).where(_CP.c.run_id == run_id, _CP.c.step_name == "classify")
            ).scalar_one_or_none()
            history = [
                audit_repo.from_row(r)
                for r in conn.execute(select(_AU).where(_AU.c.run_id == str(run_id)).order_by(_AU.c.seq))
            ]
        parsed = content.parsed if content is not None and isinstance(content.parsed, dict) else {}
        return QueueItemDetail(
            summary=summary,
            body_text=content.body_text if content is not None else None,
            body_html=content.body_html if content is not None else None,
            reasons=tuple((classified or {}).get("reasons") or ()),
            classification_source=(classified or {}).get("source"),
            attachments=tuple((str(a[0]), str(a[1]), int(a[2])) for a in parsed.get("attachments") or ()),
            to=tuple(_fmt(a) for a in parsed.get("to") or ()),
            cc=tuple(_fmt(a) for a in parsed.get("cc") or ()),
            draft=None
            if draft is None
            else DraftView(
                to=tuple(draft.to_addrs),
                subject=draft.subject,
                body=draft.body,
                template=draft.template,
                source=draft.source,
                findings=tuple(draft.findings or ()),
                sent_at=draft.sent_at,
                sent_message_id=draft.sent_message_id,
            ),
            decisions=tuple(
                DecisionView(
                    decision=d.decision,
                    actor=d.actor,
                    reason=d.reason,
                    edited=bool(d.edited),
                    decided_at=d.decided_at,
                    effective_at=d.effective_at,
                    undone_at=d.undone_at,
                )
                for d in decisions
            ),
            history=tuple(history),
            content_purged=content is None,
        )

    # --- local CRM ------------------------------------------------------------------------------

    def contacts(self, *, text: str | None = None, limit: int = 200, offset: int = 0) -> list[ContactRow]:
        """Contacts, most recently seen first."""
        query = select(_CT)
        if text:
            like = f"%{text.lower()}%"
            query = query.where(
                or_(
                    func.lower(_CT.c.email).like(like),
                    func.lower(_CT.c.name).like(like),
                    func.lower(_CT.c.company).like(like),
                )
            )
        query = query.order_by(_CT.c.last_seen.desc(), _CT.c.id).limit(limit).offset(offset)
        with self._db.read() as conn:
            return [
                ContactRow(
                    contact_id=int(r.id),
                    email=r.email,
                    name=r.name,
                    company=r.company,
                    first_seen=r.first_seen,
                    last_seen=r.last_seen,
                    activity_count=int(r.activity_count),
                )
                for r in conn.execute(query)
            ]

    def activities(
        self, *, contact_id: int | None = None, limit: int = 500, offset: int = 0
    ) -> list[ActivityRow]:
        """Activities (of one contact, or all), newest first."""
        query = select(_AC, _CT.c.email, _CT.c.name).join(_CT, _CT.c.id == _AC.c.contact_id)
        if contact_id is not None:
            query = query.where(_AC.c.contact_id == contact_id)
        query = query.order_by(_AC.c.occurred_at.desc(), _AC.c.id.desc()).limit(limit).offset(offset)
        with self._db.read() as conn:
            return [
                ActivityRow(
                    activity_id=int(r.id),
                    run_id=int(r.run_id),
                    contact_email=r.email,
                    contact_name=r.name,
                    category=r.category,
                    summary=r.summary,
                    occurred_at=r.occurred_at,
                    remote=r.remote,
                )
                for r in conn.execute(query)
            ]

    # --- the audit log ----------------------------------------------------------------------------

    def _audit_where(self, filters: AuditFilter) -> list[Any]:
        clauses: list[Any] = []
        if filters.since:
            clauses.append(_AU.c.ts >= filters.since)
        if filters.until:
            clauses.append(_AU.c.ts < filters.until)
        if filters.actions:
            clauses.append(_AU.c.action.in_(list(filters.actions)))
        if filters.actor:
            clauses.append(_AU.c.actor == filters.actor)
        if filters.run_id:
            clauses.append(_AU.c.run_id == filters.run_id)
        if filters.email_address:
            runs = (
                select(func.cast(_R.c.id, _AU.c.run_id.type))
                .join(_EM, _EM.c.id == _R.c.email_id)
                .where(func.lower(_EM.c.sender_email) == filters.email_address.lower())
            )
            clauses.append(_AU.c.run_id.in_(runs))
        if filters.text:
            like = f"%{filters.text.lower()}%"
            clauses.append(
                or_(
                    func.lower(_AU.c.action).like(like),
                    func.lower(_AU.c.actor).like(like),
                    func.lower(_AU.c.detail).like(like),
                    func.lower(_AU.c.email_ref).like(like),
                    func.lower(_AU.c.destination).like(like),
                    _AU.c.run_id == filters.text,
                )
            )
        return clauses

    def audit_events(
        self,
        filters: AuditFilter | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[AuditEvent]:
        """A page of audit events matching ``filters``."""
        query = select(_AU).where(and_(True, *self._audit_where(filters or AuditFilter())))
        query = query.order_by(_AU.c.seq.desc() if newest_first else _AU.c.seq).limit(limit).offset(offset)
        with self._db.read() as conn:
            return [audit_repo.from_row(r) for r in conn.execute(query)]

    def audit_count(self, filters: AuditFilter | None = None) -> int:
        """How many audit events match ``filters``."""
        clauses = self._audit_where(filters or AuditFilter())
        query = select(func.count()).select_from(_AU)
        if clauses:
            query = query.where(and_(*clauses))
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def audit_actions(self) -> list[str]:
        """The distinct actions in the log (for filter menus)."""
        with self._db.read() as conn:
            return [str(r[0]) for r in conn.execute(select(_AU.c.action).distinct().order_by(_AU.c.action))]

    # --- the audit log for the desktop: keyset pages, progressive text search -------------------

    def audit_page(
        self,
        filters: AuditFilter | None = None,
        *,
        before_seq: int | None = None,
        limit: int = 200,
        window: int = AUDIT_SCAN_WINDOW,
        budget_s: float = AUDIT_SCAN_BUDGET_S,
    ) -> AuditPage:
        """Audit events older than ``before_seq`` (newest first), paged by seq rather than offset.

        Structured filters (time, action, actor, run, email address) use indexes. A free-text
        filter scans backwards from ``before_seq`` in windows of ``window`` seqs and returns with a
        full page, or after ``budget_s`` seconds (a quarter of it once something matched) with what
        it found, so matches appear while the search goes on; the caller continues from
        ``next_before`` until it is None.
        """
        return _audit_page(
            self._db,
            self._audit_where(replace(filters or AuditFilter(), text=None)),
            filters or AuditFilter(),
            before_seq=before_seq,
            limit=limit,
            window=window,
            budget_s=budget_s,
        )

    def audit_actors(self) -> list[str]:
        """The distinct actors in the log (for filter menus; read from the actor index)."""
        with self._db.read() as conn:
            return [str(r[0]) for r in conn.execute(select(_AU.c.actor).distinct().order_by(_AU.c.actor))]

    def audit_head(self) -> tuple[int, str] | None:
        """The newest event's seq and hash (None when the log is empty)."""
        with self._db.read() as conn:
            head = audit_repo.head(conn)
        return None if head is None else (head.seq, head.hash)


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        name, email = value
        return f"{name} <{email}>" if name else str(email)
    return str(value)


# --- additions for the desktop: keyset paging and a progressive text search over the audit log ----


def _audit_page(
    db: Database,
    structured: list[Any],
    filters: AuditFilter,
    *,
    before_seq: int | None,
    limit: int,
    window: int,
    budget_s: float,
) -> AuditPage:
    text = (filters.text or "").strip()
    with db.read() as conn:
        lower, upper = _seq_bounds(conn, filters)
        if before_seq is not None:
            upper = min(upper, before_seq)
        if upper <= lower:
            return AuditPage([], None, lower)
        if not text:
            query = (
                select(_AU)
                .where(and_(_AU.c.seq < upper, _AU.c.seq >= lower, *structured))
                .order_by(_AU.c.seq.desc())
                .limit(limit)
            )
            events = [audit_repo.from_row(r) for r in conn.execute(query)]
            more = len(events) == limit and events[-1].seq > lower
            return AuditPage(events, events[-1].seq if more else None, events[-1].seq if events else lower)
        matches = _audit_text_clause(db, text)
        found: list[AuditEvent] = []
        started = time.monotonic()
        high = upper
        while high > lower:
            low = max(lower, high - window)
            query = (
                select(_AU)
                .where(and_(_AU.c.seq < high, _AU.c.seq >= low, matches, *structured))
                .order_by(_AU.c.seq.desc())
                .limit(limit - len(found))
            )
            found.extend(audit_repo.from_row(r) for r in conn.execute(query))
            if len(found) >= limit:
                return AuditPage(found, found[-1].seq, found[-1].seq)
            high = low
            elapsed = time.monotonic() - started
            if elapsed >= budget_s or (found and elapsed >= budget_s / 4):
                break
        return AuditPage(found, high if high > lower else None, high)


def _seq_bounds(conn: Any, filters: AuditFilter) -> tuple[int, int]:
    """[lower, upper) seq bounds: the whole log, narrowed by the time filter (via the ts index)."""
    if filters.since or filters.until:
        window = audit_repo.seq_range_for_time(conn, filters.since, filters.until)
        if window is None:
            return 0, 0
        return window[0], window[1] + 1
    head = audit_repo.head(conn)
    return 1, (head.seq + 1 if head else 1)


def _audit_text_clause(db: Database, text: str) -> Any:
    """Case-insensitive substring match over the searchable columns, without ``lower()`` on SQLite.

    SQLite's LIKE already ignores ASCII case, and skipping ``lower()`` makes the scan about three
    times faster; PostgreSQL uses ILIKE.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    columns = (_AU.c.detail, _AU.c.email_ref, _AU.c.actor, _AU.c.action, _AU.c.destination, _AU.c.outcome)
    if db.is_sqlite:
        likes = [c.like(pattern, escape="\\") for c in columns]
    else:
        likes = [c.ilike(pattern, escape="\\") for c in columns]
    return or_(*likes, _AU.c.run_id == text)
