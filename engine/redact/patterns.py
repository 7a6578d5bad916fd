"""Detectors for the personal data the redactor replaces (everything but names).

Each detector returns :class:`Found` spans. The patterns run on untrusted text, so every
quantifier is bounded and adjacent repetitions cannot backtrack into each other; the check digits
and allocation rules in :mod:`engine.redact.checks` then weed out look-alikes.

Judgement calls, documented in ``docs/providers.md``:

* A number directly preceded by a reference label (order, invoice, ref, PO, quote, tracking,
  booking, ticket, case, job, customer or account number…) is a reference, not a phone number,
  NHS number or bank account, and is kept: "Order 01174960123" stays as it is.
* ``12-34-56`` is a sort code unless it reads as a date (``dd-mm-yy``); with "sort code" written
  just before it, any of ``12-34-56``, ``12 34 56`` or ``123456`` is a sort code.
* Eight digits are an account number only with "account"/"acc"/"a/c" just before them, or right
  after a sort code.
* Payment cards: 13–19 digits starting 2–6 (the ranges issuers use), Luhn-valid only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from engine.redact.checks import (
    IBAN_LENGTHS,
    MIN_IBAN_LENGTH,
    iban_valid,
    luhn_valid,
    nhs_number_valid,
    nino_valid,
    uk_phone_digits,
)
from engine.redact.kinds import Kind


@dataclass(frozen=True)
class Found:
    """A span of ``text[start:end]`` holding personal data of ``kind``; ``key`` identifies the value
    (normalised, so ``07700 900123`` and ``+44 7700 900123`` share a placeholder)."""

    start: int
    end: int
    kind: Kind
    key: str


_LABEL_WINDOW = 40
_REFERENCE_LABEL = re.compile(
    r"(?i:\b(?:order|invoice|inv|ref|reference|po|p\.o\.|purchase\s++order|quote|quotation|tracking|"
    r"booking|ticket|case|job|customer|membership|policy|account|acct|a/c|consignment|parcel|item|sku))"
    r"(?i:\s*+(?:no\.?|nos\.?|number|num|#|id|ref|code))?+"
    r"(?:\s++(?i:is|was))?+\s*+[:#.\-]?+\s*+$"
)
_SORT_CONTEXT = re.compile(r"(?i:\bsort[\s-]?+codes?\b|\bs/c\b)")
_ACCOUNT_CONTEXT = re.compile(r"(?i:\b(?:account|acc|acct|a/c)\b)")

_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]{1,64}+@[A-Za-z0-9.-]{1,253}+")
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?44|00\s?44|\(?0)(?:(?:\)\s?|\s?\(|[ \-])?\d){8,12}+")
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?i:GIR ?0AA)|(?i:BFPO) ?\d{1,4}|"
    r"(?P<area>(?i:[A-Z]{1,2}))(?P<district>\d(?i:[0-9A-Z])?) ?(?P<inward>\d(?i:[ABD-HJLNP-UW-Z]){2}))"
    r"(?![A-Za-z0-9])"
)
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>(?i:[A-Z]{2})) ?(?P<d1>\d{2})(?P<s1> ?)(?P<d2>\d{2}) ?(?P<d3>\d{2})"
    r"(?: ?(?P<suffix>(?i:[A-D])))?(?![A-Za-z0-9])"
)
_NHS = re.compile(r"(?<!\w)\d{3}[ \-]?\d{3}[ \-]?\d{4}(?!\w)")
_CARD = re.compile(r"(?<!\w)[2-6]\d(?:[ \-]?\d){11,17}+")
_SORT_CODE = re.compile(r"(?<![\w-])(?P<a>\d{2})(?P<sep>[ \-]?)(?P<b>\d{2})(?P=sep)(?P<c>\d{2})(?![\w-])")
_ACCOUNT = re.compile(r"(?<![\w-])\d{8}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}+")

#: UK postcode areas (Royal Mail), plus BX for non-geographic addresses.
_AREAS = """AB AL B BA BB BD BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY
    E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN
    LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP
    SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE"""
POSTCODE_AREAS = frozenset(_AREAS.split())


def _labelled_reference(text: str, start: int) -> bool:
    """Whether the text just before ``start`` labels what follows as a reference number."""
    return _REFERENCE_LABEL.search(text, max(0, start - _LABEL_WINDOW), start) is not None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _digit_group_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets (exclusive) inside ``[start, end)`` where a run of digits ends, last first."""
    ends = [
        i + 1 for i in range(start, end) if text[i].isdigit() and (i + 1 == end or not text[i + 1].isdigit())
    ]
    return ends[::-1]


def find_emails(text: str) -> Iterator[Found]:
    """Email addresses (``jane.smith@example.co.uk``)."""
    for match in _EMAIL.finditer(text):
        local, _, domain = match.group().partition("@")
        bare_local = local.lstrip(".'")
        domain = domain.rstrip(".-")
        labels = domain.split(".")
        if not bare_local or len(labels) < 2 or "" in labels:
            continue
        if not (labels[-1].isalpha() and len(labels[-1]) >= 2):
            continue
        start = match.start() + len(local) - len(bare_local)
        end = match.start() + len(local) + 1 + len(domain)
        yield Found(start, end, Kind.EMAIL, f"{bare_local}@{domain}".lower())


def find_phones(text: str) -> Iterator[Found]:
    """UK phone numbers: ``0117 496 0123``, ``(0117) 496 0123``, ``07700-900123``, ``+44 (0)7700 900123``."""
    for match in _PHONE.finditer(text):
        if _labelled_reference(text, match.start()):
            continue
        for end in _digit_group_ends(text, match.start(), match.end()):
            national = uk_phone_digits(_digits(text[match.start() : end]))
            if national is not None:
                start = match.start()
                yield Found(start, end, Kind.PHONE, national)
                break


def find_postcodes(text: str) -> Iterator[Found]:
    """UK postcodes in the full format (``BS1 4DJ``, ``EC1A 1BB``, ``GIR 0AA``) and BFPO numbers."""
    for match in _POSTCODE.finditer(text):
        area = match.group("area")
        if area is not None:
            letters = area + match.group("district") + match.group("inward")
            mixed = not (letters.isupper() or letters.lower() == letters)
            if area.upper() not in POSTCODE_AREAS or mixed:
                continue
        key = match.group().upper().replace(" ", "")
        yield Found(match.start(), match.end(), Kind.POSTCODE, key)


def find_ninos(text: str) -> Iterator[Found]:
    """National Insurance numbers (``AB 12 34 56 C``, ``AB123456C``) under HMRC's prefix rules.

    Without the suffix letter, only the spaced upper-case form counts (``AB 12 34 56``).
    """
    for match in _NINO.finditer(text):
        prefix, suffix = match.group("prefix"), match.group("suffix") or ""
        compact = prefix + match.group("d1") + match.group("d2") + match.group("d3") + suffix
        if not nino_valid(compact):
            continue
        if not suffix and not (prefix.isupper() and match.group("s1")):
            continue
        yield Found(match.start(), match.end(), Kind.NINO, compact.upper())


def find_nhs_numbers(text: str) -> Iterator[Found]:
    """NHS numbers: ten digits (``943 476 5919``) whose modulus-11 check digit is valid."""
    for match in _NHS.finditer(text):
        digits = _digits(match.group())
        if nhs_number_valid(digits) and not _labelled_reference(text, match.start()):
            yield Found(match.start(), match.end(), Kind.NHS, digits)


def find_cards(text: str) -> Iterator[Found]:
    """Payment card numbers: 13–19 digits, spaces or dashes allowed, Luhn-valid."""
    for match in _CARD.finditer(text):
        for end in _digit_group_ends(text, match.start(), match.end()):
            digits = _digits(text[match.start() : end])
            if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits):
                yield Found(match.start(), end, Kind.CARD, digits)
                break


def _looks_like_date(day: str, month: str) -> bool:
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12


def find_sort_codes(text: str) -> Iterator[Found]:
    """Sort codes: ``12-34-56`` unless it reads as a date; any form right after "sort code"."""
    for match in _SORT_CODE.finditer(text):
        window = text[max(0, match.start() - _LABEL_WINDOW) : match.start()]
        in_context = _SORT_CONTEXT.search(window) is not None
        dashed = match.group("sep") == "-"
        if not in_context:
            if not dashed or _looks_like_date(match.group("a"), match.group("b")):
                continue
            if _labelled_reference(text, match.start()):
                continue
        yield Found(match.start(), match.end(), Kind.SORT_CODE, _digits(match.group()))


def find_accounts(text: str, sort_codes: list[Found]) -> Iterator[Found]:
    """Eight-digit account numbers after "account" (or a sort code) within a few words."""
    for match in _ACCOUNT.finditer(text):
        window_start = max(0, match.start() - _LABEL_WINDOW)
        after_sort_code = any(window_start <= f.end <= match.start() for f in sort_codes)
        in_context = _ACCOUNT_CONTEXT.search(text, window_start, match.start()) is not None
        if not (in_context or after_sort_code):
            continue
        label = _REFERENCE_LABEL.search(text, window_start, match.start())
        if label is not None and _ACCOUNT_CONTEXT.search(label.group()) is None:
            continue  # "order no. 12345678" is an order, even if "account" came earlier
        yield Found(match.start(), match.end(), Kind.ACCOUNT, match.group())


def find_ibans(text: str) -> Iterator[Found]:
    """IBANs (``GB82 WEST 1234 5698 7654 32``) that pass the mod-97 check."""
    for match in _IBAN.finditer(text):
        positions = [i for i in range(match.start(), match.end()) if text[i] != " "]
        compact = "".join(text[i] for i in positions)
        expected = IBAN_LENGTHS.get(compact[:2])
        lengths = [expected] if expected is not None else range(len(compact), MIN_IBAN_LENGTH - 1, -1)
        for length in lengths:
            if length <= len(compact) and iban_valid(compact[:length]):
                end = positions[length - 1] + 1
                if end < len(text) and text[end].isalnum():
                    continue  # the IBAN would end inside a word
                yield Found(match.start(), end, Kind.IBAN, compact[:length])
                break


Detector = Callable[[str], Iterator[Found]]

#: Detectors that need nothing but the text, in the order they are reported.
SIMPLE_DETECTORS: tuple[Detector, ...] = (
    find_emails,
    find_ibans,
    find_cards,
    find_ninos,
    find_phones,
    find_nhs_numbers,
    find_postcodes,
)


def find_all(text: str) -> list[Found]:
    """Every finding of every detector except names (overlaps not yet resolved)."""
    found: list[Found] = []
    for detector in SIMPLE_DETECTORS:
        found.extend(detector(text))
    sort_codes = list(find_sort_codes(text))
    found.extend(sort_codes)
    found.extend(find_accounts(text, sort_codes))
    return found
