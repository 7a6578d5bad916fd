"""Replacing personal data by typed placeholders before text leaves the machine, and putting it back.

One :class:`Redactor` serves one email: it knows the names of the sender and recipients, and the
same value always gets the same placeholder (``[EMAIL_1]`` for both mentions of one address,
across every part redacted together). :func:`restore` puts the originals back into a provider's
answer, locally.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.categories import DataCategory
from engine.redact.kinds import BY_LABEL, PRIORITY, Kind
from engine.redact.names import NameFinder
from engine.redact.patterns import Found, find_all

_PLACEHOLDER = re.compile(r"\[\s*+([A-Za-z]{2,9}+(?:_[A-Za-z]{4})?+)_(\d{1,6}+)\s*+\]")
_RANK = {kind: index for index, kind in enumerate(PRIORITY)}


def placeholder(kind: Kind, number: int) -> str:
    """The placeholder text for the ``number``-th value of ``kind`` (``[PHONE_2]``)."""
    return f"[{kind.label}_{number}]"


@dataclass(frozen=True)
class RedactedParts:
    """Several texts redacted together (so they share placeholders).

    ``mapping`` maps each placeholder used to the original text it replaced; ``categories`` are
    the kinds of personal data found in the input; ``remaining`` are the kinds still detectable in
    ``texts`` — empty after redaction, equal to ``categories`` for a pass-through. ``remaining`` is
    what the audit log records as having left the machine (with the subject and message body).
    """

    texts: tuple[str, ...]
    mapping: dict[str, str] = field(default_factory=dict)
    categories: frozenset[DataCategory] = frozenset()
    remaining: frozenset[DataCategory] = frozenset()


@dataclass(frozen=True)
class Redaction:
    """One text after redaction; fields as in :class:`RedactedParts`."""

    text: str
    mapping: dict[str, str] = field(default_factory=dict)
    categories: frozenset[DataCategory] = frozenset()
    remaining: frozenset[DataCategory] = frozenset()


class Redactor:
    """Finds and replaces personal data in the text of one email.

    ``known_names`` are display names of the sender and recipients (``"Jane Smith"``); each is
    matched whole and by its parts.
    """

    def __init__(self, known_names: Sequence[str] = ()) -> None:
        self._names = NameFinder([n for n in known_names if n and n.strip()])

    def findings(self, text: str) -> list[Found]:
        """Non-overlapping findings in ``text``, in text order (stronger kinds win overlaps)."""
        candidates = [*find_all(text), *self._names.find(text)]
        candidates.sort(key=lambda f: (_RANK[f.kind], f.start, -(f.end - f.start)))
        chosen: list[Found] = []
        taken: list[tuple[int, int]] = []
        for found in candidates:
            if all(found.end <= start or found.start >= end for start, end in taken):
                chosen.append(found)
                taken.append((found.start, found.end))
        chosen.sort(key=lambda f: f.start)
        return chosen

    def categories(self, texts: Iterable[str]) -> frozenset[DataCategory]:
        """The kinds of personal data detectable in ``texts``."""
        return frozenset(f.kind.category for text in texts for f in self.findings(text))

    def redact(self, text: str) -> Redaction:
        """Replace the personal data in ``text`` by placeholders."""
        parts = self.redact_parts([text])
        return Redaction(parts.texts[0], parts.mapping, parts.categories, parts.remaining)

    def redact_parts(self, texts: Sequence[str]) -> RedactedParts:
        """Redact several texts with shared placeholders (the subject and body of one email).

        Placeholder numbers skip any number a text already uses literally (an email that contains
        ``[EMAIL_1]`` itself), so restoring never replaces text the sender wrote.
        """
        counters = _literal_counters(texts)
        assigned: dict[tuple[Kind, str], str] = {}
        mapping: dict[str, str] = {}
        found_categories: set[DataCategory] = set()
        out: list[str] = []
        for text in texts:
            pieces: list[str] = []
            cursor = 0
            for found in self.findings(text):
                found_categories.add(found.kind.category)
                token = assigned.get((found.kind, found.key))
                if token is None:
                    counters[found.kind] = counters.get(found.kind, 0) + 1
                    token = placeholder(found.kind, counters[found.kind])
                    assigned[(found.kind, found.key)] = token
                    mapping[token] = text[found.start : found.end]
                pieces.append(text[cursor : found.start])
                pieces.append(token)
                cursor = found.end
            pieces.append(text[cursor:])
            out.append("".join(pieces))
        return RedactedParts(tuple(out), mapping, frozenset(found_categories), self.categories(out))

    def passthrough(self, texts: Sequence[str]) -> RedactedParts:
        """The texts unchanged (a provider with redaction off), with what personal data they carry."""
        found = self.categories(texts)
        return RedactedParts(tuple(texts), {}, found, found)


def _literal_counters(texts: Iterable[str]) -> dict[Kind, int]:
    counters: dict[Kind, int] = {}
    for text in texts:
        for match in _PLACEHOLDER.finditer(text):
            kind = BY_LABEL.get(match.group(1).upper())
            if kind is not None:
                counters[kind] = max(counters.get(kind, 0), int(match.group(2)))
    return counters


def restore(text: str, mapping: dict[str, str]) -> str:
    """Put the originals back for every placeholder of ``mapping`` in ``text``.

    Tolerates the small liberties models take (``[ name_1 ]``); placeholders not in ``mapping``
    are left as they are (see :func:`unresolved_placeholders`).
    """

    def put_back(match: re.Match[str]) -> str:
        token = f"[{match.group(1).upper()}_{int(match.group(2))}]"
        return mapping.get(token, match.group())

    return _PLACEHOLDER.sub(put_back, text)


def unresolved_placeholders(text: str, mapping: dict[str, str]) -> list[str]:
    """Placeholder-shaped tokens of a known kind in ``text`` that ``mapping`` cannot restore."""
    left: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        label = match.group(1).upper()
        token = f"[{label}_{int(match.group(2))}]"
        if label in BY_LABEL and token not in mapping and token not in left:
            left.append(token)
    return left
