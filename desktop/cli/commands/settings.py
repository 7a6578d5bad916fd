"""``settings show`` and ``settings set SECTION.FIELD VALUE`` for scripted deployment."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from desktop.cli.context import CommandContext
from desktop.cli.output import print_json
from engine.errors import ConfigurationError
from engine.settings import section_to_json

_SECTIONS = ("office", "retention", "schedule")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands of this module."""
    settings = sub.add_parser("settings", help="show or change settings")
    ss = settings.add_subparsers(dest="settings_command", required=True)
    show = ss.add_parser("show", help="every settings section (never secrets)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    set_ = ss.add_parser("set", help="change one field, e.g. office.user_name 'Alice Smith'")
    set_.add_argument("key", help="SECTION.FIELD, SECTION one of: " + ", ".join(_SECTIONS))
    set_.add_argument("value")
    set_.set_defaults(handler=cmd_set)


def _current(ctx: CommandContext) -> dict[str, Any]:
    store = ctx.service.settings
    return {"office": store.office(), "retention": store.retention(), "schedule": store.schedule()}


def cmd_show(ctx: CommandContext) -> int:
    """``settings show``."""
    data = {name: section_to_json(section) for name, section in _current(ctx).items()}
    if ctx.args.json:
        print_json(data)
    else:
        for name, fields in data.items():
            for key, value in fields.items():
                print(f"{name}.{key} = {value!r}")
    return 0


def _coerce(current: Any, text: str, key: str) -> Any:
    if isinstance(current, bool):
        if text.lower() in ("true", "yes", "on", "1"):
            return True
        if text.lower() in ("false", "no", "off", "0"):
            return False
        raise ConfigurationError(f"{key}: expected true or false, not {text!r}")
    if isinstance(current, int):
        try:
            return int(text)
        except ValueError as exc:
            raise ConfigurationError(f"{key}: expected a whole number, not {text!r}") from exc
    if isinstance(current, tuple):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text.replace("\\n", "\n")


def cmd_set(ctx: CommandContext) -> int:
    """``settings set SECTION.FIELD VALUE`` (validated; the change is audited)."""
    section_name, _, field_name = ctx.args.key.partition(".")
    sections = _current(ctx)
    if section_name not in sections:
        raise ConfigurationError(f"unknown section {section_name!r}; use one of: {', '.join(_SECTIONS)}")
    section = sections[section_name]
    names = [f.name for f in dataclasses.fields(section)]
    if field_name not in names:
        raise ConfigurationError(f"{section_name} has no field {field_name!r}; fields: {', '.join(names)}")
    updated = dataclasses.replace(
        section, **{field_name: _coerce(getattr(section, field_name), ctx.args.value, ctx.args.key)}
    )
    store = ctx.service.settings
    actor = store.office().user_name
    if section_name == "office":
        store.save_office(updated, actor=actor)
    elif section_name == "retention":
        store.save_retention(updated, actor=actor)
    else:
        store.save_schedule(updated, actor=actor)
    print(f"{ctx.args.key} = {getattr(updated, field_name)!r}")
    return 0
