"""The name a draft greets the sender by: a first name when the display name looks like one."""

from __future__ import annotations

import re

#: The greeting's name when the display name does not look like a person's name.
FALLBACK = "there"
_MAX_WORDS = 4
_MAX_WORD = 24
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*\.?$")
_PARTS = re.compile(r"['’-]")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "revd"})
#: Words that mark a role or company mailbox rather than a person ("Accounts Team", "Acme Ltd").
_NOT_NAMES = frozenset({
    "team", "accounts", "account", "admin", "office", "support", "sales", "info", "help", "helpdesk",
    "service", "services", "customer", "customers", "reply", "noreply", "no", "do", "not", "notifications",
    "ltd", "limited", "plc", "llp", "inc", "llc", "co", "company", "group", "studio", "shop", "store",
    "the", "and", "of", "for", "department", "dept", "desk", "mail", "email", "billing", "orders",
    "enquiries", "reception", "hr", "finance", "payroll", "marketing", "news", "newsletter", "system",
    "unknown", "user", "undisclosed", "recipients", "bank", "council", "school", "trust", "society",
})


def greeting_name(display_name: str) -> str:
    """``"Jane Holt"`` → ``"Jane"``; ``"Holt, Jane"`` → ``"Jane"``; ``"Dr Patel"`` → ``"Dr Patel"``.

    Anything that does not look like a person's name (a company or role mailbox, an address,
    digits, more than a few words) gives :data:`FALLBACK`, so the greeting reads "Hello there".
    """
    name = " ".join(display_name.replace('"', " ").split())
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}".strip()
    words = name.split(" ") if name else []
    if not words or len(words) > _MAX_WORDS or not all(_looks_like_name_word(w) for w in words):
        return FALLBACK
    parts = [p for w in words for p in _PARTS.split(w.lower().rstrip("."))]
    if any(p in _NOT_NAMES for p in parts):
        return FALLBACK
    if words[0].lower().rstrip(".") in _TITLES:
        return " ".join(_capitalised(w) for w in words[:1] + words[-1:]) if len(words) > 1 else FALLBACK
    first = words[0].rstrip(".")
    if len(first) < 2:
        return FALLBACK
    return _capitalised(first)


def _looks_like_name_word(word: str) -> bool:
    """Letters (with inner apostrophes or hyphens), not too long."""
    return len(word) <= _MAX_WORD and bool(_NAME_WORD.match(word))


def _capitalised(word: str) -> str:
    """``JANE`` → ``Jane``; ``jane`` → ``Jane``; ``McDonald`` stays as written."""
    if word.isupper() or word.islower():
        return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    return word
