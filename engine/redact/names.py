"""Finding the names of an email's sender and recipients in its text.

Names come from the headers (display names), so the redactor knows exactly which to look for.
Each name is matched whole and by its parts (first and last name separately), whole-word and
case-insensitively — except parts that are also common English words ("Will", "May", "Rose",
"Brown"): those count only when capitalised and not at the start of a sentence followed by more
words ("May I ask…"), and month names are kept when they read as dates ("in May", "May 2025").
Scripts written without spaces (Chinese, Japanese) are matched without word boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from engine.redact.kinds import Kind
from engine.redact.patterns import Found

_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "revd"}
)

#: Display-name words that name a team or a company, not a person.
_NOT_PERSONAL_WORDS = """
    team office accounts account admin administrator info information sales support service services
    customer customers the and of for ltd limited plc llp co inc company group notifications notification
    noreply no-reply donotreply reply enquiries enquiry hello contact billing orders department dept
    via on behalf mailer daemon postmaster"""
_NOT_PERSONAL = frozenset(_NOT_PERSONAL_WORDS.split())

#: Names that are also everyday words; matched only when capitalised (see the module docstring).
_COMMON_WORDS = """
    will may june april august march grace hope faith joy rose lily daisy holly ivy iris dawn eve summer
    autumn winter bill mark pat sue jack frank rob bob art ray guy max don carol amber ruby pearl penny sky
    river rich miles chase hunter drew gene jean jay kit lance nick reed rocky sandy sunny victor harry
    brown white green black young king wood hill baker cook turner walker hall ward price bell long short
    page law little stone bond fox lamb rice marsh wells banks parker cross day north south west east
    chance gay hay joy love bishop sharp swift"""
COMMON_WORD_NAMES = frozenset(_COMMON_WORDS.split())
_MONTHS = frozenset({"may", "june", "april", "august", "march"})
_DATE_LEAD = re.compile(
    r"(?i:\b(?:in|by|on|of|until|till|since|from|early|late|mid|next|last|this|during|before|after)\s++)$"
)
_DATE_TAIL = re.compile(r"\s*+(?:\d|(?i:the\b))")
_FOLLOWED_BY_WORD = re.compile(r"[ \t]++\w")
_APOSTROPHES = "'’ʼ"


def _normalise(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    for mark in _APOSTROPHES[1:]:
        value = value.replace(mark, "'")
    return " ".join(value.split()).casefold()


def _spaceless(part: str) -> bool:
    """Whether a name part is written in a script without spaces (so word boundaries do not apply)."""
    return any(unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")) for ch in part)


def name_parts(display_name: str) -> tuple[str, list[str]]:
    """The whole name and its parts worth matching, from a display name.

    Bracketed additions ("Jane Smith (Redland Physio)"), titles, initials and team words are
    dropped; "Smith, Jane" and "Smith-Jones" give their parts too.
    """
    cleaned = re.sub(r"\([^)]{0,200}\)|\[[^\]]{0,200}\]|<[^>]{0,200}>", " ", display_name)
    cleaned = cleaned.replace('"', " ").replace(",", " ")
    words = [w.strip(".") for w in cleaned.split()]
    words = [w for w in words if w and w.casefold() not in _TITLES]
    if any(w.casefold() in _NOT_PERSONAL for w in words):
        words = [w for w in words if w.casefold() not in _NOT_PERSONAL and len(w) > 1]
    parts: list[str] = []
    for word in words:
        candidates = [word, *word.split("-")] if "-" in word else [word]
        for candidate in candidates:
            if (len(candidate) > 1 or _spaceless(candidate)) and candidate not in parts:
                parts.append(candidate)
    whole = " ".join(words)
    return whole, parts


def _word_pattern(text: str) -> str:
    apostrophe = f"[{_APOSTROPHES}]"
    escaped = ("".join(apostrophe if ch in _APOSTROPHES else re.escape(ch) for ch in w) for w in text.split())
    return r"\s+".join(escaped)


class NameFinder:
    """Finds the given people's names (whole and by part) in text."""

    def __init__(self, known_names: Sequence[str]) -> None:
        wholes: set[str] = set()
        parts: set[str] = set()
        for name in known_names:
            whole, name_part_list = name_parts(name)
            if len(whole.split()) > 1:
                wholes.add(whole)
            parts.update(name_part_list)
        spaced = sorted({p for p in wholes | parts if not _spaceless(p)}, key=lambda s: (-len(s), s))
        spaceless = sorted({p for p in parts if _spaceless(p)}, key=lambda s: (-len(s), s))
        self._spaced = (
            re.compile(r"(?<!\w)(?:" + "|".join(_word_pattern(p) for p in spaced) + r")(?!\w)", re.IGNORECASE)
            if spaced
            else None
        )
        self._spaceless = re.compile("|".join(re.escape(p) for p in spaceless)) if spaceless else None

    def find(self, text: str) -> Iterator[Found]:
        """Every occurrence of a known name in ``text``."""
        if self._spaced is not None:
            for match in self._spaced.finditer(text):
                if self._counts(text, match):
                    yield Found(match.start(), match.end(), Kind.NAME, _normalise(match.group()))
        if self._spaceless is not None:
            for match in self._spaceless.finditer(text):
                yield Found(match.start(), match.end(), Kind.NAME, _normalise(match.group()))

    @staticmethod
    def _counts(text: str, match: re.Match[str]) -> bool:
        """Whether a match of a common-word part is really the name (see the module docstring)."""
        value = match.group()
        folded = value.casefold()
        if " " in value.strip() or folded not in COMMON_WORD_NAMES:
            return True
        if not value[0].isupper():
            return False
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 40]
        if folded in _MONTHS and (_DATE_LEAD.search(before) or _DATE_TAIL.match(after)):
            return False
        stripped = before.rstrip(" \t")
        if not stripped or stripped[-1] in ".!?\n":
            # "Will you…", "May I…" are verbs; "Will," or a name alone on its line is the name.
            return _FOLLOWED_BY_WORD.match(after) is None
        return True
