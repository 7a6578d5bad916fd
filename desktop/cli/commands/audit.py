"""``audit verify|export|purge|list|anchor``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from desktop.cli.context import CommandContext
from desktop.cli.output import print_json, print_table
from desktop.cli.shapes import audit_json
from engine import audit_ops
from engine.audit.chain import format_ts
from engine.audit.signing import AnchorSigner
from engine.errors import AuditIntegrityError, ConfigurationError
from engine.queries import AuditFilter


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    audit = sub.add_parser("audit", help="verify, export and purge the audit log")
    ss = audit.add_subparsers(dest="audit_command", required=True)
    verify = ss.add_parser("verify", help="recompute the hash chain and check the signed anchors")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)
    export = ss.add_parser("export", help="write the log (or a time slice) with its signed head")
    export.add_argument("--format", choices=("csv", "jsonl"), required=True)
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--since", help="from this date or time (UTC), e.g. 2026-11-01")
    export.add_argument("--until", help="up to (not including) this date or time (UTC)")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=cmd_export)
    purge = ss.add_parser("purge", help="delete message content older than the retention period")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(handler=cmd_purge)
    lst = ss.add_parser("list", help="audit events, newest first, with filters")
    lst.add_argument("--run")
    lst.add_argument("--action", action="append")
    lst.add_argument("--actor")
    lst.add_argument("--email", help="events of runs for mail from this address")
    lst.add_argument("--text")
    lst.add_argument("--since")
    lst.add_argument("--until")
    lst.add_argument("--limit", type=int, default=100)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)
    anchor = ss.add_parser("anchor", help="sign the current head now")
    anchor.add_argument("--json", action="store_true")
    anchor.set_defaults(handler=cmd_anchor)


def timestamp_arg(text: str | None, name: str) -> str | None:
    """A ``--since``/``--until`` value as the log's RFC 3339 UTC time stamp."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigurationError(
            f"{name}: {text!r} is not a date like 2026-11-01 or 2026-11-01T09:30"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_ts(moment)


def signer(ctx: CommandContext) -> AnchorSigner | None:
    """The audit signer over the OS keyring (None when no secret store is wired)."""
    secrets = ctx.service.connections.secrets
    return AnchorSigner(secrets) if secrets is not None else None


def cmd_verify(ctx: CommandContext) -> int:
    """``audit verify``: exit 1 naming the first bad event when the chain is broken."""
    result = audit_ops.verify(ctx.service.db)
    chain = result.chain
    if ctx.args.json:
        print_json(
            {
                "ok": result.ok,
                "events": chain.count,
                "head_seq": chain.head_seq,
                "head_hash": chain.head_hash,
                "first_bad_seq": chain.first_bad_seq,
                "problem": chain.problem or result.anchor_problem,
                "anchors_checked": result.anchors_checked,
            }
        )
    elif result.ok:
        print(
            f"OK: {chain.count} events verified; head {chain.head_seq} {chain.head_hash}; "
            f"{result.anchors_checked} signed anchor(s) checked."
        )
    if not chain.ok:
        raise AuditIntegrityError(
            f"audit log broken at event {chain.first_bad_seq}: {chain.problem}", seq=chain.first_bad_seq
        )
    if result.anchor_problem:
        raise AuditIntegrityError(f"audit anchor check failed: {result.anchor_problem}", seq=None)
    return 0


def cmd_export(ctx: CommandContext) -> int:
    """``audit export``."""
    service = ctx.service
    outcome = audit_ops.export(
        service.db,
        ctx.args.out.expanduser().resolve(),
        ctx.args.format,
        signer=signer(ctx),
        actor=service.actor(),
        since=timestamp_arg(ctx.args.since, "--since"),
        until=timestamp_arg(ctx.args.until, "--until"),
        now=service.now,
    )
    header = outcome.header
    if ctx.args.json:
        print_json(
            {
                "path": str(outcome.path),
                "format": ctx.args.format,
                "events": outcome.footer.count,
                "first_seq": header.first_seq,
                "last_seq": header.last_seq,
                "head_seq": header.head_seq,
                "head_hash": header.head_hash,
                "signed": header.anchor is not None,
                "public_key": header.anchor.public_key_b64 if header.anchor else None,
                "warning": outcome.warning,
            }
        )
    else:
        print(
            f"Exported {outcome.footer.count} events to {outcome.path}; "
            f"head {header.head_seq} {header.head_hash}"
        )
        if outcome.warning:
            print(f"Warning: {outcome.warning}")
    return 0


def cmd_purge(ctx: CommandContext) -> int:
    """``audit purge``: apply the retention period now."""
    service = ctx.service
    days = service.settings.retention().days
    record = audit_ops.purge(service.db, retention_days=days, actor=service.actor(), now=service.now())
    if ctx.args.json:
        print_json(record.detail())
    else:
        print(f"Purged the content of {record.messages} message(s) older than {days} days.")
    return 0


def cmd_list(ctx: CommandContext) -> int:
    """``audit list``."""
    a = ctx.args
    filters = AuditFilter(
        since=timestamp_arg(a.since, "--since"),
        until=timestamp_arg(a.until, "--until"),
        actions=tuple(a.action or ()),
        actor=a.actor,
        run_id=a.run,
        email_address=a.email,
        text=a.text,
    )
    events = ctx.service.queries.audit_events(filters, limit=a.limit)
    if a.json:
        print_json([audit_json(e) for e in events])
    else:
        print_table(
            ["SEQ", "TIME", "RUN", "ACTOR", "ACTION", "OUTCOME", "DESTINATION"],
            [[e.seq, e.ts[:19], e.run_id, e.actor, e.action, e.outcome, e.destination] for e in events],
        )
    return 0


def cmd_anchor(ctx: CommandContext) -> int:
    """``audit anchor``: sign the head now (the app also does this daily)."""
    chosen = signer(ctx)
    if chosen is None:
        raise ConfigurationError("no secure keyring is available, so the audit head cannot be signed")
    anchor = audit_ops.sign_head(ctx.service.db, chosen, reason="manual", now=ctx.service.now())
    if ctx.args.json:
        print_json(None if anchor is None else anchor.to_json())
    elif anchor is None:
        print("The audit log is empty; nothing to sign.")
    else:
        print(f"Signed event {anchor.seq} ({anchor.head_hash}) with key {anchor.public_key_b64}.")
    return 0
