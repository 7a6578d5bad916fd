"""The audit log's operations as the desktop runs them on a worker: verify, export, purge.

Each returns a small result the Audit tab turns into a message; none touches widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from desktop.app.secrets import keyring_status, secret_store
from engine import audit_ops
from engine.audit.signing import AnchorSigner

if TYPE_CHECKING:
    from engine.audit.retention import PurgeRecord
    from engine.service import TriageService

ExportFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True)
class VerifyOutcome:
    """The verification as the Audit tab shows it."""

    ok: bool
    events: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None
    problem: str | None
    anchors_checked: int


def verify_log(service: TriageService) -> VerifyOutcome:
    """Recompute the whole chain and check the signed anchors."""
    result = audit_ops.verify(service.db)
    chain = result.chain
    return VerifyOutcome(
        ok=result.ok,
        events=chain.count,
        head_seq=chain.head_seq,
        head_hash=chain.head_hash,
        first_bad_seq=chain.first_bad_seq,
        problem=chain.problem or result.anchor_problem,
        anchors_checked=result.anchors_checked,
    )


@dataclass(frozen=True)
class ExportResult:
    """Where the export went, how many events, the head it carries, and any warning."""

    path: Path
    events: int
    head_seq: int | None
    head_hash: str | None
    signed: bool
    warning: str | None


def export_log(
    service: TriageService, path: Path, fmt: ExportFormat, *, since: str | None, until: str | None
) -> ExportResult:
    """Export the log (or the time slice) signed with the office key when a keyring exists."""
    signer = AnchorSigner(secret_store(service)) if keyring_status().available else None
    outcome = audit_ops.export(
        service.db,
        path,
        fmt,
        signer=signer,
        actor=service.actor(),
        since=since,
        until=until,
        now=service.now,
    )
    header = outcome.header
    return ExportResult(
        path=outcome.path,
        events=outcome.footer.count,
        head_seq=header.head_seq,
        head_hash=header.head_hash,
        signed=header.anchor is not None,
        warning=outcome.warning,
    )


def purge_content(service: TriageService) -> PurgeRecord:
    """Apply the retention period now (the audit log records the purge)."""
    days = service.settings.retention().days
    return audit_ops.purge(service.db, retention_days=days, actor=service.actor(), now=service.now())


def export_format_for(path: Path, chosen_filter: str = "") -> ExportFormat:
    """CSV or JSON Lines, from the file name's extension or the file dialog's filter."""
    if path.suffix.lower() == ".csv" or ("CSV" in chosen_filter and path.suffix.lower() != ".jsonl"):
        return "csv"
    return "jsonl"
