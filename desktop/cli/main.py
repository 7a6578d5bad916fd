"""The ``inbox-triage`` command: argument parsing, dispatch, exit codes.

Exit codes: 0 = ok, 1 = error (one line on stderr), 2 = usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from desktop.cli.commands import accounts, audit, demo, misc, providers, queue, runs, settings, work
from desktop.cli.context import CommandContext
from desktop.errors import DesktopError
from engine.errors import EngineError

_MODULES = (runs, work, demo, queue, misc, audit, settings, accounts, providers)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="inbox-triage",
        description="Triage a small office's email: classify, log to CRM, draft, route, review, audit.",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="profile folder (default: $INBOX_TRIAGE_HOME or the user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command")
    for module in _MODULES:
        module.add_parsers(sub)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    """Parse ``argv`` and run the command; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    handler: Callable[[CommandContext], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    ctx = CommandContext(args)
    try:
        return handler(ctx)
    except (EngineError, DesktopError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _connector_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()


def _connector_errors() -> type[Exception]:
    from connectors.errors import ConnectorError

    return ConnectorError
