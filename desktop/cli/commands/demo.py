"""``demo``: a fresh demo profile with the bundled mailbox, triaged."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.cli.context import CommandContext
from desktop.cli.output import print_json


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the command."""
    demo = sub.add_parser(
        "demo", help="open the app on a fresh demo profile with the bundled mailbox (or triage it headless)"
    )
    demo.add_argument("--headless", action="store_true", help="no window: triage and print a summary")
    demo.add_argument("--json", action="store_true", help="with --headless: print the summary as JSON")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(ctx: CommandContext) -> int:
    """Open the window on a fresh demo profile, or with --headless create it, triage and summarise."""
    if not ctx.args.headless:
        from desktop.app.entry import run_app

        return run_app(ctx.args.profile, demo=True)
    from desktop.cli.commands.runs import run_pass
    from desktop.wiring import create_demo_profile

    root = Path(ctx.args.profile).expanduser() if ctx.args.profile else None
    profile = create_demo_profile(root)
    ctx.args.profile = str(profile.root)
    summary = run_pass(ctx.service, None, workers=1)
    summary["profile"] = str(profile.root)
    if ctx.args.json:
        print_json(summary)
        return 0
    states = summary["states"]
    assert isinstance(states, dict)
    print(f"Demo profile: {profile.root}")
    print(
        f"Triaged the demo mailbox: {states.get('waiting_review', 0)} waiting for review, "
        f"{states.get('completed', 0)} closed without a reply, {states.get('quarantined', 0)} quarantined, "
        f"{states.get('failed', 0)} failed."
    )
    print("Next steps:")
    print(f"  inbox-triage --profile {profile.root} queue list")
    print(
        f"  inbox-triage --profile {profile.root} queue approve ITEM"
        f"   # the reply lands in {profile.outbox_dir}"
    )
    print(f"  inbox-triage --profile {profile.root} audit verify")
    return 0
