"""Per-category reply templates: defaults, the office's overrides from Settings, and rendering.

Templates use ``string.Template`` syntax (``$name`` or ``${name}``, ``$$`` for a dollar sign)
with five placeholders: ``$sender_name`` (the sender's first name, else "there"), ``$subject``
(the email's subject, cleaned to one short line), ``$reference``, ``$office_name`` and
``$signature``. The default templates never include the email's own words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from types import MappingProxyType

from engine.categories import ALL_CATEGORIES, NO_REPLY_CATEGORIES
from engine.drafting.defaults import DEFAULT_TEMPLATES
from engine.drafting.names import greeting_name
from engine.errors import ConfigurationError
from engine.mail.reply import reply_subject

PLACEHOLDERS = ("sender_name", "subject", "reference", "office_name", "signature")
#: Categories that get a drafted reply.
TEMPLATE_CATEGORIES = tuple(c for c in ALL_CATEGORIES if c not in NO_REPLY_CATEGORIES)
MAX_TEMPLATE_LENGTH = 10_000
_MAX_SUBJECT = 120
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Draft:
    """A drafted reply: its subject (``Re: …``), body, and which template produced it."""

    subject: str
    body: str
    template: str


class DraftTemplates:
    """The templates in use: the defaults with any overrides the office saved in Settings."""

    def __init__(self, texts: Mapping[str, str], overridden: frozenset[str] = frozenset()) -> None:
        for category, text in texts.items():
            check_template(category, text)
        self._texts = MappingProxyType(dict(texts))
        self._overridden = overridden

    @classmethod
    def default(cls) -> DraftTemplates:
        """The built-in templates."""
        return cls(DEFAULT_TEMPLATES)

    def with_overrides(self, overrides: Mapping[str, str]) -> DraftTemplates:
        """A copy with ``overrides`` (category → template text) replacing the current texts.

        Raises :class:`ConfigurationError` for a category without replies, an empty template, or
        a placeholder that does not exist (naming it).
        """
        for category, text in overrides.items():
            check_template(category, text)
        return DraftTemplates({**self._texts, **overrides}, self._overridden | frozenset(overrides))

    def text(self, category: str) -> str | None:
        """The template text for ``category`` (for Settings to show), or ``None`` when there is none."""
        return self._texts.get(category)

    def render(self, category: str, *, sender_name: str, subject: str, reference: str, office_name: str,
               signature: str) -> Draft | None:
        """The draft for ``category``, or ``None`` for spam and notifications.

        ``sender_name`` is the sender's display name as it came (the greeting uses the first name,
        or "there"); ``subject`` is the email's subject.
        """
        if category not in ALL_CATEGORIES:
            choices = ", ".join(ALL_CATEGORIES)
            raise ConfigurationError(f"Unknown category {category!r}; choose one of: {choices}.")
        text = self._texts.get(category)
        if text is None:
            return None
        clean_subject = _one_line(subject)[:_MAX_SUBJECT].strip()
        values = {
            "sender_name": greeting_name(sender_name),
            "subject": clean_subject,
            "reference": _one_line(reference),
            "office_name": _one_line(office_name),
            "signature": signature.strip(),
        }
        body = Template(text).substitute(values).strip() + "\n"
        source = "custom" if category in self._overridden else "default"
        return Draft(subject=reply_subject(clean_subject), body=body, template=f"{source}:{category}")


def check_template(category: str, text: str) -> None:
    """Raise :class:`ConfigurationError` unless ``text`` is a usable template for ``category``."""
    if category not in TEMPLATE_CATEGORIES:
        if category in NO_REPLY_CATEGORIES:
            raise ConfigurationError(f"No reply is drafted for {category}, so it cannot have a template.")
        raise ConfigurationError(f"Unknown category {category!r} for a template; use one of: "
                                 f"{', '.join(TEMPLATE_CATEGORIES)}.")
    if not text.strip():
        raise ConfigurationError(f"The {category} template is empty.")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise ConfigurationError(f"The {category} template is longer than {MAX_TEMPLATE_LENGTH} characters.")
    known = ", ".join(f"${p}" for p in PLACEHOLDERS)
    for match in Template.pattern.finditer(text):
        name = match.group("named") or match.group("braced")
        if name is not None and name not in PLACEHOLDERS:
            raise ConfigurationError(
                f"The {category} template uses an unknown placeholder ${name}; the placeholders are {known}."
            )
        if match.group("invalid") is not None:
            line = text.count("\n", 0, match.start()) + 1
            raise ConfigurationError(
                f"The {category} template has a '$' on line {line} that is not a placeholder; "
                f"write $$ for a dollar sign, or use one of {known}."
            )


def _one_line(value: str) -> str:
    """``value`` on one line: control characters removed, whitespace collapsed."""
    return " ".join(_UNPRINTABLE.sub(" ", value).split())
