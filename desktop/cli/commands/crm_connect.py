"""``crm connect hubspot|pipedrive|webhook``, ``crm status|test|disconnect``: the remote CRM from the shell.

These join the ``crm`` command group of :mod:`desktop.cli.commands.misc` (which keeps ``crm
contacts|activities`` for the built-in contacts). The token or webhook secret comes from stdin and
goes to the keyring; the settings go to the ``crm`` section (:class:`connectors.crm.book.CrmBook`).
"""

from __future__ import annotations

import argparse
from typing import Any

from connectors.crm import build_crm
from connectors.crm.book import CrmBook
from connectors.crm.settings import CrmSettings
from desktop.cli.commands.providers import read_stdin_secret, secret_store
from desktop.cli.context import CommandContext
from desktop.cli.output import print_json
from desktop.wiring import factory_for
from engine.errors import ConfigurationError

_LABELS = {"hubspot": "HubSpot", "pipedrive": "Pipedrive", "webhook": "Webhook"}


def add_crm_parsers(cs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``connect``, ``status``, ``test`` and ``disconnect`` to the ``crm`` command group."""
    connect = cs.add_parser("connect", help="connect HubSpot, Pipedrive or a webhook (replaces any other)")
    kinds = connect.add_subparsers(dest="crm_kind", required=True)
    for kind in ("hubspot", "pipedrive"):
        parser = kinds.add_parser(kind, help=f"{_LABELS[kind]} (API token)")
        parser.add_argument("--base-url", help="API root (default: the service's public API)")
        parser.add_argument("--token-stdin", action="store_true", help="read the API token from stdin")
        if kind == "pipedrive":
            parser.add_argument(
                "--token-in-query",
                action="store_true",
                help="send the token as ?api_token= (not recommended)",
            )
        _common(parser)
    hook = kinds.add_parser("webhook", help="POST signed JSON to a URL (Zapier, Make, n8n, Power Automate)")
    hook.add_argument("--url", required=True, help="the URL to POST each email's event to")
    hook.add_argument("--secret-stdin", action="store_true", help="read the shared signing secret from stdin")
    _common(hook)

    status = cs.add_parser("status", help="which CRM is connected (never the token)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)

    test = cs.add_parser(
        "test", help="a real request to the connected CRM: does it answer and accept the token?"
    )
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=cmd_test)

    disconnect = cs.add_parser("disconnect", help="go back to the built-in contacts; forget the token")
    disconnect.set_defaults(handler=cmd_disconnect)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="", help="shown in the audit log (default: the kind)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds per request")
    parser.set_defaults(handler=cmd_connect)


def _book(ctx: CommandContext) -> CrmBook:
    return CrmBook(ctx.service.settings, secret_store(ctx))


def status_json(book: CrmBook) -> dict[str, Any]:
    """The ``crm status --json`` shape."""
    current = book.current()
    if current is None:
        return {"connected": False, "kind": None, "name": None, "base_url": None, "host": None,
                "timeout_s": None, "token_in_query": None, "has_secret": False}  # fmt: skip
    return {
        "connected": True,
        "kind": current.kind,
        "name": current.name,
        "base_url": current.base_url,
        "host": current.host,
        "timeout_s": current.timeout_s,
        "token_in_query": current.token_in_query,
        "has_secret": book.has_secret(current),
    }


def cmd_connect(ctx: CommandContext) -> int:
    """``crm connect KIND ...``."""
    args = ctx.args
    kind = args.crm_kind
    settings = CrmSettings(
        kind=kind,
        name=args.name,
        base_url=(args.url if kind == "webhook" else args.base_url) or "",
        timeout_s=args.timeout,
        token_in_query=bool(getattr(args, "token_in_query", False)),
    )
    flag = "--secret-stdin" if kind == "webhook" else "--token-stdin"
    wanted = args.secret_stdin if kind == "webhook" else args.token_stdin
    settings.validate()
    secret = read_stdin_secret(flag) if wanted else None
    book = _book(ctx)
    book.connect(settings, secret=secret, actor=ctx.service.actor())
    what = "signing secret" if kind == "webhook" else "API token"
    stored = f"; {what} stored in the keyring" if secret else ""
    print(f"Connected {_LABELS[kind]} {settings.name!r} at {settings.base_url}{stored}.")
    if not book.has_secret(settings):
        print(f"No {what} is stored yet: run crm connect {kind} again with {flag}.")
    print("Each triaged email is now logged there; the built-in contacts keep working.")
    return 0


def cmd_status(ctx: CommandContext) -> int:
    """``crm status``."""
    data = status_json(_book(ctx))
    if ctx.args.json:
        print_json(data)
    elif not data["connected"]:
        print("No remote CRM is connected: contacts are kept in the built-in CRM (crm contacts).")
    else:
        secret = "stored" if data["has_secret"] else "MISSING"
        print(f"{_LABELS[data['kind']]} {data['name']!r} at {data['base_url']} (token {secret}).")
    return 0


def cmd_test(ctx: CommandContext) -> int:
    """``crm test``: exit 0 when the CRM answered and accepted the token, 1 otherwise."""
    current = _book(ctx).current()
    if current is None:
        raise ConfigurationError("no remote CRM is connected (crm connect hubspot|pipedrive|webhook ...)")
    crm = build_crm(current, factory_for(ctx.service, current.host), secret_store(ctx))
    try:
        result = crm.test_connection()  # type: ignore[attr-defined]  # every connector defines it
    finally:
        crm.close()
    if ctx.args.json:
        print_json({"name": current.name, "kind": current.kind, "ok": result.ok, "message": result.message})
    else:
        print(("OK: " if result.ok else "FAILED: ") + result.message)
    return 0 if result.ok else 1


def cmd_disconnect(ctx: CommandContext) -> int:
    """``crm disconnect``."""
    gone = _book(ctx).disconnect(actor=ctx.service.actor())
    if gone is None:
        print("No remote CRM was connected.")
    else:
        print(f"Disconnected {_LABELS.get(gone.kind, gone.kind)} {gone.name!r}; its token was forgotten.")
    return 0
