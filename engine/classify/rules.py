"""User rules: sender, domain or keyword → category, checked in the office's order before the model.

* ``sender``: the sender's address equals the pattern (case-insensitive).
* ``domain``: the sender's domain is the pattern or a subdomain of it.
* ``keyword``: the pattern occurs as whole words, case-insensitively, in the subject or body
  (a phrase matches across any whitespace).

The first matching rule wins, with confidence 1.0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.categories import ALL_CATEGORIES
from engine.classify.result import Classification
from engine.classify.text import ClassifierInput
from engine.errors import ConfigurationError

RULE_KINDS = ("sender", "domain", "keyword")
MAX_PATTERN_LENGTH = 200
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[^\s@<>(),;:\"\[\]\\]+$")
_HAS_WORD_CHARACTER = re.compile(r"\w")


@dataclass(frozen=True)
class Rule:
    """One user rule: ``kind`` is ``"sender"``, ``"domain"`` or ``"keyword"``."""

    kind: str
    pattern: str
    category: str

    def describe(self) -> str:
        """``sender billing@supplier.example → billing`` (keywords are quoted)."""
        pattern = self.pattern.strip()
        shown = f'"{pattern}"' if self.kind == "keyword" else pattern.lower()
        return f"{self.kind} {shown} → {self.category}"


def validate_rules(rules: Sequence[Rule]) -> None:
    """Raise :class:`ConfigurationError` naming the first invalid rule (numbered from 1) and the fix."""
    for number, rule in enumerate(rules, start=1):
        problem = rule_problem(rule)
        if problem:
            raise ConfigurationError(f"Rule {number} ({rule.kind} {rule.pattern.strip()!r}): {problem}")


def rule_problem(rule: Rule) -> str | None:
    """What is wrong with ``rule``, in words for the office, or ``None`` when it is valid."""
    if rule.kind not in RULE_KINDS:
        return f"unknown kind {rule.kind!r}; use one of: {', '.join(RULE_KINDS)}."
    if rule.category not in ALL_CATEGORIES:
        return f"unknown category {rule.category!r}; choose one of: {', '.join(ALL_CATEGORIES)}."
    pattern = rule.pattern.strip()
    if not pattern:
        return "the pattern is empty."
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is longer than {MAX_PATTERN_LENGTH} characters."
    if rule.kind == "domain":
        return _domain_problem(pattern)
    if rule.kind == "sender":
        local, at, domain = pattern.rpartition("@")
        if not at or not local or not _LOCAL.match(local):
            return "write a full email address, such as billing@supplier.example."
        problem = _domain_problem(domain)
        return None if problem is None else f"the address's domain is not valid: {problem}"
    if not _HAS_WORD_CHARACTER.search(pattern):
        return "a keyword needs at least one letter or digit."
    return None


def _domain_problem(domain: str) -> str | None:
    """Why ``domain`` is not a domain name such as ``supplier.co.uk``, or ``None``."""
    if domain.startswith(("@", "*")):
        return "write the domain alone, without '@' or '*', such as supplier.co.uk."
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return "write a domain name such as supplier.co.uk (letters, digits, hyphens and dots)."
    return None


def keyword_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words of ``phrase``, case-insensitive, separated by any whitespace."""
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


class RuleSet:
    """Validated rules, ready to match (keywords compiled once)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        validate_rules(rules)
        self.rules = tuple(rules)
        self._keywords = {
            i: keyword_pattern(rule.pattern) for i, rule in enumerate(self.rules) if rule.kind == "keyword"
        }

    def match(self, item: ClassifierInput) -> Classification | None:
        """The first matching rule's classification (confidence 1.0), or ``None``."""
        sender = item.sender.strip().lower()
        domain = sender.rpartition("@")[2] if "@" in sender else ""
        for index, rule in enumerate(self.rules):
            if self._matches(index, rule, item, sender, domain):
                return Classification(category=rule.category, confidence=1.0,
                                      reasons=(f"rule: {rule.describe()}",), source="rule")
        return None

    def _matches(self, index: int, rule: Rule, item: ClassifierInput, sender: str, domain: str) -> bool:
        """Whether one rule applies to the email."""
        pattern = rule.pattern.strip().lower()
        if rule.kind == "sender":
            return bool(sender) and sender == pattern
        if rule.kind == "domain":
            wanted = pattern.rstrip(".")
            return bool(domain) and (domain == wanted or domain.endswith("." + wanted))
        keyword = self._keywords[index]
        return bool(keyword.search(item.subject) or keyword.search(item.body))
