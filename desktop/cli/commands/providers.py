"""``providers add|list|test|remove|chain|usage``: AI providers from the shell, for scripted deployment.

Every setting is an option; the API key comes from stdin (``--api-key-stdin``) and goes to the
keyring, never to the command line or the database. The stored section is ``ai_providers``
(:class:`connectors.ai_book.ProviderBook`); the JSON shapes are documented in ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from typing import Any

from connectors.ai_book import STEPS, ProviderBook
from connectors.providers import build_provider
from connectors.secrets import KeyringSecretStore
from desktop.cli.context import CommandContext
from desktop.cli.output import print_json, print_table
from desktop.wiring import factory_for
from engine.ai.settings import PROVIDER_KINDS, ProviderSettings, with_defaults
from engine.ai.usage import TokenUsage
from engine.errors import ConfigurationError
from engine.ports import SecretStore
from engine.service import TriageService
from engine.storage.token_usage import DatabaseTokenUsageLedger


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    providers = sub.add_parser(
        "providers", help="AI providers (OpenAI-compatible, Anthropic) and their chains"
    )
    ps = providers.add_subparsers(dest="providers_command", required=True)

    add = ps.add_parser("add", help="add (or with --replace, change) an AI provider")
    add.add_argument("name", help="a short name, shown in the audit log as provider:NAME")
    add.add_argument("--kind", choices=PROVIDER_KINDS, help="openai (any OpenAI-compatible API) or anthropic")
    add.add_argument(
        "--base-url", help="API root (default https://api.openai.com/v1 or https://api.anthropic.com)"
    )
    add.add_argument("--model", help="model name, e.g. gpt-4o-mini or claude-sonnet-4-5")
    add.add_argument("--api-key-stdin", action="store_true", help="read the API key from stdin")
    add.add_argument("--no-api-key", action="store_true", help="the server takes no key (Ollama, LM Studio)")
    add.add_argument("--timeout", type=float, metavar="S", help="seconds per request (default 60)")
    add.add_argument("--rpm", type=int, metavar="N", help="requests per minute (default 60; 0 = no limit)")
    add.add_argument("--concurrency", type=int, metavar="N", help="requests in flight at once (default 4)")
    add.add_argument("--no-redact", action="store_true", help="send text without replacing personal data")
    add.add_argument("--redact", action="store_true", help="with --replace: turn redaction back on")
    add.add_argument(
        "--azure-api-version", metavar="V", help="Azure OpenAI: the api-version, e.g. 2024-10-21"
    )
    add.add_argument(
        "--max-completion-tokens",
        action="store_true",
        help="send max_completion_tokens (newer OpenAI models)",
    )
    add.add_argument("--classify", action="store_true", help="append it to the classification chain")
    add.add_argument("--draft", action="store_true", help="append it to the drafting chain")
    add.add_argument("--replace", action="store_true", help="change the existing provider of this name")
    add.set_defaults(handler=cmd_add)

    lst = ps.add_parser("list", help="providers, chains, key present or not, today's token use (never keys)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    test = ps.add_parser("test", help="send a tiny real request and say whether the provider answered")
    test.add_argument("name")
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=cmd_test)

    remove = ps.add_parser("remove", help="remove a provider (from both chains) and forget its key")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_remove)

    chain = ps.add_parser("chain", help="set which providers classify or draft, in order (none = offline)")
    chain.add_argument("step", choices=STEPS)
    chain.add_argument("names", nargs="*", metavar="NAME")
    chain.set_defaults(handler=cmd_chain)

    usage = ps.add_parser("usage", help="token use per provider on one day (default today)")
    usage.add_argument("--day", type=date.fromisoformat, metavar="YYYY-MM-DD")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(handler=cmd_usage)


# --- helpers -----------------------------------------------------------------------------------------


def secret_store(ctx: CommandContext) -> SecretStore:
    """The profile's secret store (the OS keyring)."""
    return ctx.service.connections.secrets or KeyringSecretStore()


def read_stdin_secret(flag: str) -> str:
    """One line from stdin (without its line ending); ConfigurationError when it is empty."""
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise ConfigurationError(f"{flag}: nothing was read from stdin")
    return value


def _book(ctx: CommandContext) -> ProviderBook:
    return ProviderBook(ctx.service.settings, secret_store(ctx))


def _settings_from_args(args: argparse.Namespace, current: ProviderSettings | None) -> ProviderSettings:
    """The provider the options describe: the current one changed (``--replace``) or a new one."""
    if current is None:
        if args.kind is None:
            raise ConfigurationError("--kind openai|anthropic is needed for a new provider")
        base = with_defaults(args.kind, args.name)
    elif args.kind is not None and args.kind != current.kind:
        base = with_defaults(args.kind, args.name, model=current.model)
    else:
        base = current
    changes: dict[str, Any] = {
        field_name: getattr(args, option)
        for option, field_name in (
            ("base_url", "base_url"),
            ("model", "model"),
            ("timeout", "timeout_s"),
            ("concurrency", "max_concurrency"),
            ("azure_api_version", "azure_api_version"),
        )
        if getattr(args, option) is not None
    }
    if args.rpm is not None:
        changes["requests_per_minute"] = args.rpm or None
    if args.max_completion_tokens:
        changes["max_tokens_field"] = "max_completion_tokens"
    changes.update(_switches(args))
    return replace(base, **changes)


def _switches(args: argparse.Namespace) -> dict[str, bool]:
    """``redact`` and ``needs_api_key`` as the paired on/off options set them."""
    if args.no_redact and args.redact:
        raise ConfigurationError("use either --redact or --no-redact, not both")
    if args.no_api_key and args.api_key_stdin:
        raise ConfigurationError("use either --api-key-stdin or --no-api-key, not both")
    switches: dict[str, bool] = {}
    if args.no_redact or args.redact:
        switches["redact"] = bool(args.redact)
    if args.no_api_key or args.api_key_stdin:
        switches["needs_api_key"] = bool(args.api_key_stdin)
    return switches


def _steps_text(book: ProviderBook, name: str) -> str:
    settings = book.settings()
    parts = []
    for step, chain in (("classifies", settings.classify_chain), ("drafts", settings.draft_chain)):
        if name in chain:
            parts.append(f"{step} ({chain.index(name) + 1} of {len(chain)})")
    return ", ".join(parts) or "in no chain yet (providers chain classify|draft ...)"


def usage_json(usage: TokenUsage | None, day: date, provider: str) -> dict[str, Any]:
    """The token-use shape of ``providers list`` and ``providers usage``."""
    return {
        "provider": provider,
        "day": day.isoformat(),
        "requests": usage.requests if usage else 0,
        "input_tokens": usage.input_tokens if usage else 0,
        "output_tokens": usage.output_tokens if usage else 0,
        "total_tokens": usage.total_tokens if usage else 0,
    }


def provider_json(
    book: ProviderBook, provider: ProviderSettings, usage: TokenUsage | None, day: date
) -> dict[str, Any]:
    """The ``providers list --json`` shape of one provider (never the key itself)."""
    settings = book.settings()
    return {
        "name": provider.name,
        "kind": provider.kind,
        "base_url": provider.base_url,
        "host": provider.host,
        "model": provider.model,
        "timeout_s": provider.timeout_s,
        "requests_per_minute": provider.requests_per_minute,
        "max_concurrency": provider.max_concurrency,
        "redact": provider.redact,
        "needs_api_key": provider.needs_api_key,
        "has_api_key": book.has_api_key(provider.name),
        "azure_api_version": provider.azure_api_version,
        "max_tokens_field": provider.max_tokens_field,
        "classify_position": _position(settings.classify_chain, provider.name),
        "draft_position": _position(settings.draft_chain, provider.name),
        "usage_today": {k: v for k, v in usage_json(usage, day, provider.name).items() if k != "provider"},
    }


def _position(chain: tuple[str, ...], name: str) -> int | None:
    return chain.index(name) + 1 if name in chain else None


def _usage(service: TriageService, day: date) -> dict[str, TokenUsage]:
    return {u.provider: u for u in DatabaseTokenUsageLedger(service.db).usage(day)}


# --- commands ----------------------------------------------------------------------------------------


def cmd_add(ctx: CommandContext) -> int:
    """``providers add NAME ...``."""
    args = ctx.args
    book = _book(ctx)
    current = None
    if args.replace:
        current = book.get(args.name)
    provider = _settings_from_args(args, current)
    api_key = read_stdin_secret("--api-key-stdin") if args.api_key_stdin else None
    steps = [s for s, wanted in (("classify", args.classify), ("draft", args.draft)) if wanted]
    book.add(provider, api_key=api_key, steps=steps, actor=ctx.service.actor(), replace_existing=args.replace)
    verb = "Changed" if args.replace else "Added"
    stored = "; API key stored in the keyring" if api_key else ""
    print(
        f"{verb} AI provider {provider.name!r}: {provider.kind} at {provider.base_url}"
        f"{f', model {provider.model}' if provider.model else ''}{stored}."
    )
    print(f"It {_steps_text(book, provider.name)}; redaction {'on' if provider.redact else 'OFF'}.")
    if provider.needs_api_key and not book.has_api_key(provider.name):
        print(
            f"No API key is stored yet: inbox-triage providers add {provider.name} --replace --api-key-stdin"
        )
    return 0


def cmd_list(ctx: CommandContext) -> int:
    """``providers list``."""
    book = _book(ctx)
    settings = book.settings()
    day = date.today()
    usage = _usage(ctx.service, day)
    if ctx.args.json:
        print_json(
            {
                "day": day.isoformat(),
                "providers": [provider_json(book, p, usage.get(p.name), day) for p in settings.providers],
                "classify_chain": list(settings.classify_chain),
                "draft_chain": list(settings.draft_chain),
            }
        )
        return 0
    print_table(
        ["NAME", "KIND", "MODEL", "HOST", "KEY", "REDACT", "CLASSIFY", "DRAFT", "TOKENS TODAY"],
        [
            [
                p.name,
                p.kind,
                p.model,
                p.host,
                ("stored" if book.has_api_key(p.name) else "MISSING") if p.needs_api_key else "none needed",
                "on" if p.redact else "OFF",
                _position(settings.classify_chain, p.name),
                _position(settings.draft_chain, p.name),
                usage[p.name].total_tokens if p.name in usage else 0,
            ]
            for p in settings.providers
        ],
    )
    for step, chain in (("Classification", settings.classify_chain), ("Drafting", settings.draft_chain)):
        print(f"{step}: {' → '.join(chain) + ' → ' if chain else ''}offline fallback")
    return 0


def cmd_test(ctx: CommandContext) -> int:
    """``providers test NAME``: exit 0 when the provider answered, 1 otherwise."""
    book = _book(ctx)
    settings = book.get(ctx.args.name)
    provider = build_provider(settings, factory_for(ctx.service, settings.host), secret_store(ctx))
    try:
        result = provider.test_connection()
    finally:
        provider.close()
    if ctx.args.json:
        print_json({"name": settings.name, "ok": result.ok, "message": result.message})
    else:
        print(("OK: " if result.ok else "FAILED: ") + result.message)
    return 0 if result.ok else 1


def cmd_remove(ctx: CommandContext) -> int:
    """``providers remove NAME``."""
    provider = _book(ctx).remove(ctx.args.name, actor=ctx.service.actor())
    print(f"Removed AI provider {provider.name!r} and its API key.")
    return 0


def cmd_chain(ctx: CommandContext) -> int:
    """``providers chain classify|draft NAME...``."""
    settings = _book(ctx).set_chain(ctx.args.step, ctx.args.names, actor=ctx.service.actor())
    chain = settings.classify_chain if ctx.args.step == "classify" else settings.draft_chain
    what = "Classification" if ctx.args.step == "classify" else "Drafting"
    print(f"{what}: {' → '.join(chain) + ' → ' if chain else ''}offline fallback")
    return 0


def cmd_usage(ctx: CommandContext) -> int:
    """``providers usage [--day D]``."""
    day = ctx.args.day or date.today()
    rows = [usage_json(u, day, u.provider) for u in _usage(ctx.service, day).values()]
    if ctx.args.json:
        print_json(rows)
        return 0
    print_table(
        ["PROVIDER", "DAY", "REQUESTS", "INPUT", "OUTPUT", "TOTAL"],
        [
            [r["provider"], r["day"], r["requests"], r["input_tokens"], r["output_tokens"], r["total_tokens"]]
            for r in rows
        ],
    )
    return 0
