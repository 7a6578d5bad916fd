"""``queue list|show|approve|reject|reclassify``."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.cli.context import CommandContext
from desktop.cli.output import print_json, print_table
from desktop.cli.shapes import queue_item_json, run_json
from engine.categories import ALL_CATEGORIES
from engine.errors import ConfigurationError
from engine.review import DraftEdit


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    queue = sub.add_parser("queue", help="the review queue")
    qs = queue.add_subparsers(dest="queue_command", required=True)
    lst = qs.add_parser("list", help="items waiting for review, complaints first")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)
    show = qs.add_parser("show", help="one item: email, reasons, draft, history")
    show.add_argument("item", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    approve = qs.add_parser("approve", help="approve the draft and send it")
    approve.add_argument("item", type=int)
    approve.add_argument("--body-file", type=Path, help="send this text instead of the draft body")
    approve.add_argument("--subject", help="replace the draft subject")
    approve.set_defaults(handler=cmd_approve)
    reject = qs.add_parser("reject", help="reject the draft (nothing is sent)")
    reject.add_argument("item", type=int)
    reject.add_argument("--reason", required=True)
    reject.set_defaults(handler=cmd_reject)
    recl = qs.add_parser("reclassify", help="correct the category (teaches the local model)")
    recl.add_argument("item", type=int)
    recl.add_argument("category", choices=ALL_CATEGORIES)
    recl.set_defaults(handler=cmd_reclassify)


def cmd_list(ctx: CommandContext) -> int:
    """``queue list``."""
    items = ctx.service.queries.queue()
    if ctx.args.json:
        print_json([run_json(r) for r in items])
    else:
        print_table(
            ["ITEM", "CATEGORY", "CONF", "FROM", "SUBJECT", "WAITING SINCE"],
            [[r.run_id, r.category, r.confidence, r.sender, r.subject, r.waiting_since] for r in items],
        )
    return 0


def cmd_show(ctx: CommandContext) -> int:
    """``queue show ITEM``."""
    item = ctx.service.queries.queue_item(ctx.args.item)
    if ctx.args.json:
        print_json(queue_item_json(item))
        return 0
    s = item.summary
    print(f"Item {s.run_id} — {s.state} — {s.category} ({(s.confidence or 0):.0%})")
    print(f"From: {s.sender_name or ''} <{s.sender}>\nSubject: {s.subject}\n")
    print(item.body_text or "(content purged)")
    print("\nWhy: " + "; ".join(item.reasons))
    if item.draft:
        print(
            f"\n--- Draft to {', '.join(item.draft.to)} ---\n"
            f"Subject: {item.draft.subject}\n\n{item.draft.body}"
        )
    return 0


def cmd_approve(ctx: CommandContext) -> int:
    """``queue approve ITEM``: record the approval, then send at once."""
    edit = None
    if ctx.args.body_file or ctx.args.subject:
        body = None
        if ctx.args.body_file:
            try:
                body = ctx.args.body_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigurationError(f"cannot read {ctx.args.body_file}: {exc.strerror}") from exc
        edit = DraftEdit(body=body, subject=ctx.args.subject)
    service = ctx.service
    service.approve(ctx.args.item, edit=edit)
    service.runner().drive(ctx.args.item)
    run = service.queries.run(ctx.args.item)
    if run.outcome == "sent":
        print(f"Approved and sent item {run.run_id}.")
    else:
        print(
            f"Approved item {run.run_id}; it is now {run.state}" + (f" ({run.error})" if run.error else ".")
        )
    return 0


def cmd_reject(ctx: CommandContext) -> int:
    """``queue reject ITEM --reason TEXT``."""
    service = ctx.service
    service.reject(ctx.args.item, reason=ctx.args.reason)
    service.runner().drive(ctx.args.item)
    print(f"Rejected item {ctx.args.item}; nothing was sent.")
    return 0


def cmd_reclassify(ctx: CommandContext) -> int:
    """``queue reclassify ITEM CATEGORY``."""
    ctx.service.reclassify(ctx.args.item, ctx.args.category)
    print(f"Item {ctx.args.item} is now {ctx.args.category}; the local model will learn from it.")
    return 0
