"""Typed settings sections, their validation, and their defaults.

Each section is a frozen dataclass stored as JSON under one key in the ``settings`` table
(:mod:`engine.settings_store`). Invalid values raise :class:`ConfigurationError` with a message
that says what to fix. Secrets are never part of a section; they live in the OS keyring.
"""

from __future__ import annotations

import dataclasses
import getpass
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, TypeVar, cast

from engine.categories import ALL_CATEGORIES, NO_REPLY_CATEGORIES
from engine.errors import ConfigurationError

_T = TypeVar("_T")

PolicyMode = Literal["review", "auto_send", "no_reply"]
POLICY_MODES: tuple[str, ...] = ("review", "auto_send", "no_reply")

_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _default_user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user database entry
        return "staff"


@dataclass(frozen=True)
class OfficeSettings:
    """Who the office is and who is using this desk."""

    office_name: str = "Our office"
    user_name: str = field(default_factory=_default_user_name)
    reply_from: str = ""
    reply_from_name: str = ""
    signature: str = ""
    facts: str = ""
    message_id_domain: str = "inbox-triage.invalid"

    def validate(self) -> OfficeSettings:
        """Return self, or raise ConfigurationError naming the bad field."""
        if not self.office_name.strip():
            raise ConfigurationError("Office name: enter the name your replies are signed with.")
        if not self.user_name.strip():
            raise ConfigurationError("Your name: enter the name the audit log records for your actions.")
        if self.reply_from and not _EMAIL_RE.match(self.reply_from):
            raise ConfigurationError(
                f"Reply-from address: {self.reply_from!r} is not an email address (like hello@example.co.uk)."
            )
        if not _DOMAIN_RE.match(self.message_id_domain) and not self.message_id_domain.endswith(".invalid"):
            raise ConfigurationError(
                f"Message-ID domain: {self.message_id_domain!r} is not a domain name (like example.co.uk)."
            )
        return self


@dataclass(frozen=True)
class Policy:
    """What happens to an email of one category after it is classified and drafted."""

    category: str
    mode: PolicyMode = "review"
    threshold: float = 0.9
    template: str | None = None

    def validate(self) -> Policy:
        """Return self, or raise ConfigurationError naming the bad field."""
        if self.category not in ALL_CATEGORIES:
            raise ConfigurationError(
                f"Unknown category {self.category!r}; choose one of: {', '.join(ALL_CATEGORIES)}."
            )
        if self.mode not in POLICY_MODES:
            raise ConfigurationError(
                f"Policy for {self.category}: mode must be one of {', '.join(POLICY_MODES)}."
            )
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigurationError(
                f"Policy for {self.category}: the confidence threshold must be between 0 and 1, "
                f"not {self.threshold}."
            )
        if self.mode == "auto_send" and self.category in NO_REPLY_CATEGORIES:
            raise ConfigurationError(f"Policy for {self.category}: this category never gets a reply.")
        return self


def default_policies() -> dict[str, Policy]:
    """Nothing is auto-sent: spam and notifications are closed without a reply, the rest reviewed."""
    return {
        category: Policy(category=category, mode="no_reply" if category in NO_REPLY_CATEGORIES else "review")
        for category in ALL_CATEGORIES
    }


@dataclass(frozen=True)
class RetentionSettings:
    """How long message content is kept before it is purged (the audit log stays)."""

    days: int = 90

    def validate(self) -> RetentionSettings:
        """Return self, or raise ConfigurationError."""
        if not 1 <= self.days <= 3650:
            raise ConfigurationError("Retention: keep message content between 1 and 3650 days.")
        return self


@dataclass(frozen=True)
class ScheduleSettings:
    """When the mailbox is polled."""

    enabled: bool = True
    poll_minutes: int = 5
    working_hours_only: bool = False
    start: str = "08:00"
    end: str = "18:00"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")

    def validate(self) -> ScheduleSettings:
        """Return self, or raise ConfigurationError."""
        if not 1 <= self.poll_minutes <= 1440:
            raise ConfigurationError("Schedule: poll every 1 to 1440 minutes.")
        for label, value in (("start", self.start), ("end", self.end)):
            if not _HHMM_RE.match(value):
                raise ConfigurationError(
                    f"Schedule: working hours {label} must look like 08:30, not {value!r}."
                )
        if self.working_hours_only and self.start >= self.end:
            raise ConfigurationError("Schedule: working hours must end after they start.")
        bad = [d for d in self.days if d not in _DAYS]
        if bad or not self.days:
            raise ConfigurationError(f"Schedule: days must be chosen from {', '.join(_DAYS)}.")
        return self


@dataclass(frozen=True)
class ClassifierRuleSetting:
    """A user rule as stored: sender, domain or keyword → category (validated by engine.classify)."""

    kind: str
    pattern: str
    category: str


def section_to_json(section: Any) -> Any:
    """JSON-ready form of a settings dataclass (tuples become lists)."""
    return _listify(asdict(section))


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_listify(v) for v in value]
    return value


def office_from_json(data: Any) -> OfficeSettings:
    """Build OfficeSettings from stored JSON, ignoring unknown keys (from newer versions)."""
    return _build(OfficeSettings, data)


def retention_from_json(data: Any) -> RetentionSettings:
    """Build RetentionSettings from stored JSON."""
    return _build(RetentionSettings, data)


def schedule_from_json(data: Any) -> ScheduleSettings:
    """Build ScheduleSettings from stored JSON."""
    built = _build(ScheduleSettings, data)
    return replace(built, days=tuple(built.days))


def policies_from_json(data: Any) -> dict[str, Policy]:
    """Merge stored policies over the defaults (a category added later gets its default)."""
    policies = default_policies()
    if isinstance(data, dict):
        for category, raw in data.items():
            if category in policies and isinstance(raw, dict):
                policies[category] = _build(Policy, {**raw, "category": category})
    return policies


def _build(cls: type[_T], data: Any) -> _T:
    if not isinstance(data, dict):
        return cls()
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:  # pragma: no cover - a corrupted settings row
        raise ConfigurationError(f"stored settings for {cls.__name__} are invalid: {exc}") from exc


def parse_policy_mode(value: str) -> PolicyMode:
    """Check a policy mode string."""
    if value not in POLICY_MODES:
        raise ConfigurationError(f"mode must be one of {', '.join(POLICY_MODES)}")
    return cast(PolicyMode, value)
