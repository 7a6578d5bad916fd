"""``accounts add imap|smtp|graph``, ``accounts list|test|sign-in|remove``: mail accounts from the shell.

For scripted deployment to several desks: every setting is an option, secrets come from stdin
(``--password-stdin``) and go to the keyring, never to the command line or the database.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path
from typing import Any

from connectors.accounts import (
    OAUTH_CLIENT_SECRET,
    PASSWORD,
    Account,
    AccountBook,
    GraphAccount,
    ImapAccount,
    SmtpAccount,
    account_to_json,
    http_factory,
    is_sender,
    secret_purposes,
    sign_in,
    test_connection,
)
from connectors.accounts import Toolkit as AccountToolkit
from connectors.gmail import GMAIL
from connectors.graph.auth import DeviceCode
from connectors.imap.diagnose import ConnectionTestResult
from connectors.imap.endpoint import SECURITY_MODES
from connectors.secrets import KeyringSecretStore
from connectors.smtp import SENT_COPY_MODES
from desktop.cli.context import CommandContext
from desktop.cli.output import print_json, print_table
from engine.errors import ConfigurationError
from engine.ports import SecretStore

PRESETS = ("gmail",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    accounts = sub.add_parser("accounts", help="mail accounts: IMAP, SMTP, Microsoft 365 (Graph), Gmail")
    acs = accounts.add_subparsers(dest="accounts_command", required=True)

    add = acs.add_parser("add", help="add (or with --replace, change) a mail account")
    kinds = add.add_subparsers(dest="kind", required=True)
    _imap_parser(kinds.add_parser("imap", help="a mailbox to watch over IMAP"))
    _smtp_parser(kinds.add_parser("smtp", help="send replies over SMTP"))
    _graph_parser(kinds.add_parser("graph", help="a Microsoft 365 mailbox through Microsoft Graph"))

    lst = acs.add_parser("list", help="the configured accounts (never secrets)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    test = acs.add_parser("test", help="connect and say exactly what fails (dns, tcp, tls, login, folder)")
    test.add_argument("name")
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=cmd_test)

    sign = acs.add_parser("sign-in", help="sign a Microsoft 365 or Google (XOAUTH2) account in")
    sign.add_argument("name")
    sign.add_argument(
        "--browser", action="store_true", help="Microsoft 365: the system browser, not a device code"
    )
    sign.set_defaults(handler=cmd_sign_in)

    remove = acs.add_parser("remove", help="remove an account and forget its secrets")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_remove)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="a short name for the account, e.g. office")
    parser.add_argument("--replace", action="store_true", help="change an existing account of this name")


def _server(parser: argparse.ArgumentParser, *, security_help: str) -> None:
    parser.add_argument("--preset", choices=PRESETS, help="fill in the server settings (gmail)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int, help="default: the usual port for --security")
    parser.add_argument("--security", choices=SECURITY_MODES, help=security_help)
    parser.add_argument("--user", help="login name (often the email address)")
    parser.add_argument("--ca-file", help="CA certificate (PEM) for a self-signed server")
    parser.add_argument("--auth", choices=("password", "xoauth2"), default="password")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password (or app password) from stdin"
    )
    parser.add_argument("--oauth-client-id", default="", help="xoauth2: your office's Google OAuth client id")
    parser.add_argument(
        "--oauth-client-secret-stdin",
        action="store_true",
        help="xoauth2: read the OAuth client secret from stdin",
    )


def _imap_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _server(parser, security_help="tls (default), starttls, or none (this computer only)")
    parser.add_argument("--folder", default="INBOX", help="the folder to watch (default INBOX)")
    parser.add_argument(
        "--processed", choices=("flag", "move"), default="flag", help="what to do with processed mail"
    )
    parser.add_argument(
        "--processed-keyword", default="$Triaged", help="flag: the keyword to set (or \\Seen)"
    )
    parser.add_argument("--processed-folder", default="", help="move: the folder to move processed mail to")
    parser.add_argument(
        "--first-sync-days", type=int, default=14, help="on first connect, only mail this recent"
    )
    parser.add_argument("--no-idle", action="store_true", help="do not use IMAP IDLE push; poll only")
    parser.set_defaults(handler=cmd_add)


def _smtp_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _server(parser, security_help="starttls (default), tls, or none (this computer only)")
    parser.add_argument(
        "--sent-account", required=True, help="the IMAP account whose Sent folder keeps replies"
    )
    parser.add_argument("--sent-folder", help="default Sent ([Gmail]/Sent Mail with --preset gmail)")
    parser.add_argument(
        "--sent-copy", choices=SENT_COPY_MODES, help="append (default), or server (it files copies)"
    )
    parser.add_argument("--login-from", default="", help="log in as that IMAP account (same user and secret)")
    parser.set_defaults(handler=cmd_add)


def _graph_parser(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--client-id", required=True, help="the app's client id in Entra ID")
    parser.add_argument(
        "--tenant", default="organizations", help="tenant id or domain (default organizations)"
    )
    parser.add_argument("--mailbox", default="", help="the mailbox's address (suggested at sign-in)")
    parser.add_argument("--folder", default="inbox", help="the folder to watch (default inbox)")
    parser.add_argument("--processed", choices=("flag", "move"), default="flag")
    parser.add_argument("--processed-category", default="Triaged", help="flag: the Outlook category to add")
    parser.add_argument("--processed-folder", default="", help="move: the folder to move processed mail to")
    parser.add_argument("--first-sync-days", type=int, default=14)
    parser.add_argument("--no-send", action="store_true", help="do not send replies through this mailbox")
    parser.add_argument(
        "--authority", default=None, help="sign-in host (default https://login.microsoftonline.com)"
    )
    parser.add_argument(
        "--graph-url", default=None, help="Graph base URL (default https://graph.microsoft.com/v1.0)"
    )
    parser.add_argument("--ca-file", default="", help="CA certificate (PEM) for a TLS-inspecting proxy")
    parser.set_defaults(handler=cmd_add)


# --- helpers -----------------------------------------------------------------------------------------


def _secrets(ctx: CommandContext) -> SecretStore:
    return ctx.service.connections.secrets or KeyringSecretStore()


def _book(ctx: CommandContext) -> AccountBook:
    return AccountBook(ctx.service.settings, _secrets(ctx))


def _toolkit(ctx: CommandContext, book: AccountBook) -> AccountToolkit:
    accounts = book.accounts()
    return AccountToolkit(_secrets(ctx), http_factory(accounts))


def _read_secret(what: str) -> str:
    line = sys.stdin.readline()
    value = line.rstrip("\r\n")
    if not value:
        raise ConfigurationError(f"--{what}-stdin: nothing was read from stdin")
    return value


def _path(value: str | None) -> str:
    """A file path as stored: absolute, so the account works from any working directory."""
    return str(Path(value).expanduser().resolve()) if value else ""


def _account_from_args(args: argparse.Namespace) -> Account:
    if args.kind == "graph":
        return GraphAccount(
            name=args.name,
            client_id=args.client_id,
            tenant=args.tenant,
            mailbox=args.mailbox,
            folder=args.folder,
            processed=args.processed,
            processed_category=args.processed_category,
            processed_folder=args.processed_folder,
            first_sync_days=args.first_sync_days,
            send=not args.no_send,
            **{k: v for k, v in (("authority_host", args.authority), ("graph_url", args.graph_url)) if v},
            ca_file=_path(args.ca_file),
        )
    gmail = args.preset == "gmail"
    if args.kind == "imap":
        return ImapAccount(
            name=args.name,
            host=args.host or (GMAIL.imap_host if gmail else ""),
            username=args.user or "",
            port=args.port or (GMAIL.imap_port if gmail else 0),
            security=args.security or "tls",
            auth=args.auth,
            ca_file=_path(args.ca_file),
            folder=args.folder,
            processed=args.processed,
            processed_keyword=args.processed_keyword,
            processed_folder=args.processed_folder,
            first_sync_days=args.first_sync_days,
            idle=not args.no_idle,
            oauth_client_id=args.oauth_client_id,
        )
    return SmtpAccount(
        name=args.name,
        host=args.host or (GMAIL.smtp_host if gmail else ""),
        sent_account=args.sent_account,
        username=args.user or "",
        port=args.port or (GMAIL.smtp_port if gmail else 0),
        security=args.security or ("tls" if gmail else "starttls"),
        auth=args.auth,
        ca_file=_path(args.ca_file),
        sent_folder=args.sent_folder or (GMAIL.sent_folder if gmail else "Sent"),
        sent_copy=args.sent_copy or ("server" if gmail else "append"),
        login_from=args.login_from,
        oauth_client_id=args.oauth_client_id,
    )


def account_json(book: AccountBook, account: Account) -> dict[str, Any]:
    """The ``accounts list --json`` shape of one account."""
    return {
        **account_to_json(account),
        "sender": is_sender(account),
        "secrets": {purpose: book.has_secret(account.name, purpose) for purpose in secret_purposes(account)},
    }


def _describe(account: Account) -> str:
    if isinstance(account, GraphAccount):
        return f"Microsoft 365 via {account.graph_url}" + ("" if account.send else " (no sending)")
    return f"{account.host}:{account.effective_port} ({account.security})"


# --- commands ----------------------------------------------------------------------------------------


def cmd_add(ctx: CommandContext) -> int:
    """``accounts add KIND NAME ...``."""
    args = ctx.args
    account = _account_from_args(args)
    secrets: dict[str, str] = {}
    if getattr(args, "password_stdin", False) and getattr(args, "oauth_client_secret_stdin", False):
        raise ConfigurationError("use either --password-stdin or --oauth-client-secret-stdin, not both")
    if getattr(args, "password_stdin", False):
        secrets[PASSWORD] = _read_secret("password")
    if getattr(args, "oauth_client_secret_stdin", False):
        secrets[OAUTH_CLIENT_SECRET] = _read_secret("oauth-client-secret")
    book = _book(ctx)
    book.add(account, secrets=secrets, actor=ctx.service.actor(), replace=args.replace)
    verb = "Changed" if args.replace else "Added"
    kind = {"imap": "IMAP", "smtp": "SMTP", "graph": "Microsoft 365"}[account.kind]
    stored = f"; {', '.join(p.replace('-', ' ') for p in secrets)} stored in the keyring" if secrets else ""
    print(f"{verb} {kind} account {account.name!r}: {_describe(account)}{stored}.")
    if isinstance(account, GraphAccount) or (
        account.auth == "xoauth2" and not getattr(account, "login_from", "")
    ):
        print(f"Next: inbox-triage accounts sign-in {account.name}")
    return 0


def cmd_list(ctx: CommandContext) -> int:
    """``accounts list``."""
    book = _book(ctx)
    accounts = book.accounts()
    if ctx.args.json:
        print_json([account_json(book, a) for a in accounts])
        return 0
    print_table(
        ["NAME", "KIND", "SERVER", "USER", "SENDS", "SECRETS"],
        [
            [
                a.name,
                a.kind,
                _describe(a),
                getattr(a, "username", "") or getattr(a, "mailbox", ""),
                "yes" if is_sender(a) else "",
                ", ".join(
                    f"{p} {'stored' if ok else 'MISSING'}"
                    for p, ok in account_json(book, a)["secrets"].items()
                ),
            ]
            for a in accounts
        ],
    )
    return 0


def cmd_test(ctx: CommandContext) -> int:
    """``accounts test NAME``: exit 0 when every stage worked, 1 otherwise."""
    book = _book(ctx)
    result: ConnectionTestResult = test_connection(ctx.args.name, book, _toolkit(ctx, book))
    if ctx.args.json:
        print_json(result.to_json())
    else:
        for stage in result.stages:
            print(
                f"{'ok  ' if stage.ok else 'FAIL'} {stage.stage:<6} {stage.message} ({stage.elapsed_ms} ms)"
            )
        print(("OK: " if result.ok else "FAILED: ") + result.message)
    return 0 if result.ok else 1


def cmd_sign_in(ctx: CommandContext) -> int:
    """``accounts sign-in NAME``: device code (or browser) for Microsoft 365, browser for Google."""
    book = _book(ctx)

    def show(code: DeviceCode) -> None:
        print(
            code.message or f"Open {code.verification_uri} and enter the code {code.user_code}.", flush=True
        )

    def browse(url: str) -> None:
        print(f"Sign in on this page (it opens in your browser if one is available):\n{url}", flush=True)
        webbrowser.open(url)

    account = book.get(ctx.args.name)
    device = show if isinstance(account, GraphAccount) and not ctx.args.browser else None
    who = sign_in(ctx.args.name, book, _toolkit(ctx, book), show_device_code=device, open_browser=browse)
    print(f"Signed in as {who}; the sign-in is kept in the keyring.")
    return 0


def cmd_remove(ctx: CommandContext) -> int:
    """``accounts remove NAME``."""
    account = _book(ctx).remove(ctx.args.name, actor=ctx.service.actor())
    print(f"Removed {account.kind} account {account.name!r} and its secrets.")
    return 0
