"""``classify``, ``policy list|set``, ``crm contacts|activities`` (and the remote CRM's commands)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from desktop.cli.commands.crm_connect import add_crm_parsers
from desktop.cli.context import CommandContext
from desktop.cli.output import print_json, print_table
from desktop.cli.shapes import activity_json, contact_json, policy_json
from engine.categories import ALL_CATEGORIES
from engine.errors import ConfigurationError


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    classify = sub.add_parser("classify", help="classify one .eml file (no side effects)")
    classify.add_argument("file", type=Path)
    classify.add_argument("--json", action="store_true")
    classify.set_defaults(handler=cmd_classify)

    policy = sub.add_parser("policy", help="what happens to each category")
    ps = policy.add_subparsers(dest="policy_command", required=True)
    plist = ps.add_parser("list")
    plist.add_argument("--json", action="store_true")
    plist.set_defaults(handler=cmd_policy_list)
    pset = ps.add_parser("set")
    pset.add_argument("category", choices=ALL_CATEGORIES)
    mode = pset.add_mutually_exclusive_group(required=True)
    mode.add_argument("--review", action="store_const", const="review", dest="mode")
    mode.add_argument("--auto-send", action="store_const", const="auto_send", dest="mode")
    mode.add_argument("--no-reply", action="store_const", const="no_reply", dest="mode")
    pset.add_argument("--threshold", type=float, help="auto-send only at or above this confidence (0-1)")
    pset.set_defaults(handler=cmd_policy_set)

    crm = sub.add_parser("crm", help="the local CRM")
    cs = crm.add_subparsers(dest="crm_command", required=True)
    contacts = cs.add_parser("contacts")
    contacts.add_argument("--json", action="store_true")
    contacts.set_defaults(handler=cmd_contacts)
    activities = cs.add_parser("activities")
    activities.add_argument("--json", action="store_true")
    activities.set_defaults(handler=cmd_activities)
    add_crm_parsers(cs)  # crm connect|status|test|disconnect: the remote CRM (crm_connect.py)


def cmd_classify(ctx: CommandContext) -> int:
    """``classify FILE.eml``."""
    try:
        raw = ctx.args.file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {ctx.args.file}: {exc.strerror}") from exc
    result = ctx.service.classify_raw(raw)
    if ctx.args.json:
        print_json(
            {
                "category": result.category,
                "confidence": round(result.confidence, 4),
                "reasons": list(result.reasons),
            }
        )
    else:
        print(f"{result.category} ({result.confidence:.0%}): " + "; ".join(result.reasons))
    return 0


def cmd_policy_list(ctx: CommandContext) -> int:
    """``policy list``."""
    policies = [ctx.service.settings.policies()[c] for c in ALL_CATEGORIES]
    if ctx.args.json:
        print_json([policy_json(p) for p in policies])
    else:
        print_table(
            ["CATEGORY", "MODE", "THRESHOLD"],
            [[p.category, p.mode, p.threshold if p.mode == "auto_send" else None] for p in policies],
        )
    return 0


def cmd_policy_set(ctx: CommandContext) -> int:
    """``policy set CATEGORY --review | --auto-send --threshold X | --no-reply``."""
    args = ctx.args
    if args.mode == "auto_send" and args.threshold is None:
        raise ConfigurationError("--auto-send needs --threshold X (a confidence between 0 and 1)")
    if args.mode != "auto_send" and args.threshold is not None:
        raise ConfigurationError("--threshold only applies with --auto-send")
    service = ctx.service
    current = service.settings.policies()[args.category]
    updated = replace(
        current, mode=args.mode, threshold=args.threshold if args.threshold is not None else current.threshold
    )
    service.settings.save_policy(updated, actor=service.actor())
    print(
        f"{args.category}: {updated.mode}"
        + (f" at ≥ {updated.threshold:g}" if updated.mode == "auto_send" else "")
    )
    return 0


def cmd_contacts(ctx: CommandContext) -> int:
    """``crm contacts``."""
    contacts = ctx.service.queries.contacts(limit=100_000)
    if ctx.args.json:
        print_json([contact_json(c) for c in contacts])
    else:
        print_table(
            ["EMAIL", "NAME", "COMPANY", "ACTIVITIES", "LAST SEEN"],
            [[c.email, c.name, c.company, c.activity_count, c.last_seen] for c in contacts],
        )
    return 0


def cmd_activities(ctx: CommandContext) -> int:
    """``crm activities``."""
    activities = ctx.service.queries.activities(limit=100_000)
    if ctx.args.json:
        print_json([activity_json(a) for a in activities])
    else:
        print_table(
            ["RUN", "CONTACT", "CATEGORY", "SUMMARY", "WHEN"],
            [[a.run_id, a.contact_email, a.category, a.summary, a.occurred_at] for a in activities],
        )
    return 0
