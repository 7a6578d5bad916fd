"""Checking a draft reply for contact details that did not come from the thread or the office.

A model steered by an email (or simply making things up) may add a link, an email address or a
phone number to a reply. Anything of the kind that appears in the draft but nowhere in the thread
(the email and its quoted history), the office's facts page or signature is a finding; any finding
forces review. Links are compared by host (``www.`` ignored): a link's host must appear as a link
in the thread, or belong to the office — a host or subdomain of a link or email domain on the
facts page or in the signature. (An address in the email does not vouch for links to its domain:
an attacker's ``x@evil.example`` must not let ``pay.evil.example`` through.) Addresses compare
case-insensitively, phone numbers by their digits (``+44 117…`` = ``0117…``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.redact.checks import uk_phone_digits
from engine.redact.patterns import find_emails, find_phones
from engine.safety.normalise import visible_text

_TLDS = (
    "com|net|org|info|biz|io|ly|me|co|uk|eu|de|fr|nl|ie|es|it|us|ca|au|nz|in|ru|cn|su|tk|ml|ga|cf|gq|"
    "xyz|top|site|online|shop|store|app|dev|link|click|live|club|icu|buzz|win|bid|loan|work|ai|gg|to|cc|"
    "ws|tv|pw|page|sh|so|gd|am|fm|im|is|li|vc|bit|onion|example|invalid|test"
)
_URL = re.compile(r"(?i:\b(?:https?|hxxps?|ftp)://|\bwww\.)[^\s<>\"'`)\]}]{1,2048}+")
_BARE_DOMAIN = re.compile(
    rf"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.){{1,10}}+(?i:{_TLDS})(?![\w\-])"
    r"(?:/[^\s<>\"'`)\]}]{0,2048}+)?",
    re.IGNORECASE,
)
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ \-]?\(?\d{1,5}\)?){2,6}+")
_SCHEME = re.compile(r"^(?i:[a-z]+://)")


@dataclass(frozen=True)
class DraftFindings:
    """What a draft adds that the thread and the facts page do not contain.

    ``must_review`` is true whenever anything was found; ``reasons`` are sentences for the review
    pane; ``links`` (hosts), ``emails`` and ``phones`` list the foreign items themselves.
    """

    must_review: bool
    reasons: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


def link_hosts(text: str) -> list[str]:
    """Hosts of the links in ``text``: full URLs, ``www.`` addresses and bare domains (``evil.example``)."""
    text = visible_text(text)
    hosts: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        spans.append(match.span())
        _append(hosts, _host_of(match.group()))
    for match in _BARE_DOMAIN.finditer(text):
        if any(start <= match.start() < end for start, end in spans):
            continue
        _append(hosts, _host_of(match.group()))
    return [h for h in hosts if h]


def email_addresses(text: str) -> list[str]:
    """Email addresses in ``text``, lower-cased."""
    found: list[str] = []
    for item in find_emails(visible_text(text)):
        _append(found, item.key)
    return found


def phone_numbers(text: str) -> list[str]:
    """Phone numbers in ``text`` as digits (UK numbers in their national form ``0…``)."""
    text = visible_text(text)
    found: list[str] = []
    for item in find_phones(text):
        _append(found, item.key)
    for match in _INTERNATIONAL_PHONE.finditer(text):
        digits = "".join(ch for ch in match.group() if ch.isdigit())
        _append(found, uk_phone_digits(digits) or digits)
    return found


def check_draft(draft_text: str, thread_text: str, facts_text: str, *, signature: str = "") -> DraftFindings:
    """Flag links, email addresses and phone numbers in the draft that appear in neither the thread,
    the facts page nor the office's signature (pass it so the office's own details are known)."""
    office = "\n".join((facts_text, signature))
    known = "\n".join((thread_text, office))
    thread_hosts = set(link_hosts(thread_text))
    office_hosts = set(link_hosts(office)) | {e.rpartition("@")[2] for e in email_addresses(office)}
    known_emails = set(email_addresses(known))
    known_phones = set(phone_numbers(known))
    links = [h for h in link_hosts(draft_text) if h not in thread_hosts and not _host_known(h, office_hosts)]
    emails = [e for e in email_addresses(draft_text) if e not in known_emails]
    phones = [p for p in phone_numbers(draft_text) if p not in known_phones]
    tail = "which is not in the email or the facts page"
    reasons = [f"the draft adds a link to {h}, {tail}" for h in links]
    reasons += [f"the draft adds the address {e}, {tail}" for e in emails]
    reasons += [f"the draft adds the phone number {p}, {tail}" for p in phones]
    return DraftFindings(bool(reasons), tuple(reasons), tuple(links), tuple(emails), tuple(phones))


def _host_of(url: str) -> str:
    rest = _SCHEME.sub("", url.strip().rstrip(".,;:!?"))
    host = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    host = host.rpartition("@")[2]  # http://good.example@evil.example/ goes to evil.example
    host = host.split(":", 1)[0].rstrip(".,;:!?").lower()
    return host.removeprefix("www.")


def _host_known(host: str, known: Iterable[str]) -> bool:
    return any(host == k or host.endswith("." + k) for k in known)


def _append(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
