"""Reading the headers of a parsed message safely.

Each header is read with the modern ``email.policy.default`` header classes (plain printable
ASCII values and simple address lists take a faster path with the same result). When the policy
raises, reports a defect, or leaves undecodable bytes behind, the raw value is decoded tolerantly
instead (8-bit bytes guessed, encoded words decoded with charset fallbacks) and the workaround is
recorded in :attr:`HeaderReader.defects`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from email import utils as email_utils
from email.policy import Policy

from engine.mail.encoded_words import clean_text, has_surrogates, raw_header_text, tolerant_header
from engine.mail.guard import guarded
from engine.mail.model import Address

# Patterns run on untrusted text: quantifiers are bounded or possessive so that no input can make
# them backtrack for long (every pattern here is linear in the length of the text).
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~"
_ADDRESS_IN_TEXT = re.compile(rf"[{_ATEXT}.-]{{1,64}}@[A-Za-z0-9.-]{{1,253}}")
_BAD_IN_DOMAIN = re.compile(r"[\s@<>()\[\],;:\"\\\x00-\x1f\x7f]")
_BAD_IN_LOCAL = re.compile(r"[\s<>\x00-\x1f\x7f]")
_PLAIN_VALUE = re.compile(r"[\x20-\x7e\t]*")
_SIMPLE_ADDR = rf"[{_ATEXT}.-]++@[A-Za-z0-9.-]++"
_SIMPLE_NAME = rf"[{_ATEXT}.-]++(?:[ \t]++[{_ATEXT}.-]++)*+"
# One mailbox of a simple list: "Name" <a@b>, Name <a@b>, <a@b> or a@b, with surrounding blanks.
_SIMPLE_MAILBOX = re.compile(
    rf"[ \t]*+(?:(?:\"([^\"\\]*+)\"|({_SIMPLE_NAME}))?[ \t]*+<({_SIMPLE_ADDR})>|({_SIMPLE_ADDR}))[ \t]*+"
)
MAX_ADDRESS_LENGTH = 254
MAX_ADDRESSES = 500
# The policy's header parsers are slow on long values (seconds for 200 KB); longer fields are
# decoded tolerantly, and address fields scanned, instead.
MAX_PARSED_LENGTH = 8192


class HeaderReader:
    """Decoded access to a message's raw header fields, collecting the defects worked around."""

    def __init__(self, pairs: Iterable[tuple[str, str]], policy: Policy = email_policy.default) -> None:
        self._policy = policy
        self._fields: dict[str, list[tuple[str, str]]] = {}
        self._order: list[tuple[str, str]] = []
        for name, value in pairs:
            self._fields.setdefault(name.lower(), []).append((name, value))
            self._order.append((name, value))
        self.defects: list[str] = []
        self._parsed: dict[tuple[str, str], tuple[object, str | None]] = {}

    def has(self, name: str) -> bool:
        """Whether a field called ``name`` (any case) is present."""
        return name.lower() in self._fields

    def raw_values(self, name: str) -> list[str]:
        """The raw values of every field called ``name``, in order."""
        return [value for _, value in self._fields.get(name.lower(), [])]

    def text(self, name: str) -> str | None:
        """The decoded value of the first field called ``name``, or ``None`` if absent."""
        values = self._fields.get(name.lower())
        if not values:
            return None
        return self._decode(*values[0])

    def items(self, names: frozenset[str]) -> list[tuple[str, str]]:
        """Every field whose lower-cased name is in ``names``, decoded, in message order."""
        return [(name, self._decode(name, raw)) for name, raw in self._order if name.lower() in names]

    def addresses(self, name: str) -> tuple[Address, ...]:
        """Every valid address in every field called ``name`` (junk skipped, recorded as defects).

        At most :data:`MAX_ADDRESSES` are kept, each once.
        """
        found: dict[Address, None] = {}
        for field_name, raw in self._fields.get(name.lower(), []):
            for address in self._parse_addresses(field_name, raw):
                found.setdefault(address)
                if len(found) >= MAX_ADDRESSES:
                    return tuple(found)
        return tuple(found)

    def date(self) -> datetime | None:
        """The first ``Date`` field as an aware UTC datetime, or ``None`` if absent or unreadable."""
        values = self._fields.get("date")
        if not values:
            return None
        name, raw = values[0]
        header, error = self._header(name, raw)
        value = getattr(header, "datetime", None) if error is None else None
        if isinstance(value, datetime):
            return _to_utc(value)
        text, _ = tolerant_header(raw)
        parsed = _parse_date_text(text)
        if parsed is None and text:
            self.defects.append(f"Date header not understood: {text[:80]!r}")
        return parsed

    def _decode(self, name: str, raw: str) -> str:
        """Decode one field, preferring the policy's reading when it is clean.

        Plain printable ASCII without encoded words needs no decoding and is returned unfolded.
        """
        unfolded = raw.replace("\r", "").replace("\n", "")
        if "=?" not in unfolded and _PLAIN_VALUE.fullmatch(unfolded):
            return unfolded.strip()
        header, error = self._header(name, raw)
        if error is None and header is not None:
            value = str(header)
            header_defects = getattr(header, "defects", ())
            if not header_defects and not has_surrogates(value) and "\ufffd" not in value:
                return clean_text(value)
        text, notes = tolerant_header(raw)
        reason = error or "; ".join(str(d) for d in getattr(header, "defects", ()) if str(d))
        self.defects.append(f"{name} header decoded leniently" + (f" ({reason})" if reason else ""))
        self.defects.extend(f"{name} header: {note}" for note in notes)
        return text

    def _parse_addresses(self, name: str, raw: str) -> list[Address]:
        """Addresses from one field: the policy's parse, then a scan of the text for the rest.

        Simple ASCII lists (``Name <a@b>``, ``"Name" <a@b>``, ``a@b``, comma-separated) are read
        with a pattern first: the policy's parser is several times slower and gives the same result.
        """
        simple = self._simple_addresses(raw)
        if simple is not None:
            return simple
        header, error = self._header(name, raw)
        parsed = getattr(header, "addresses", ()) if error is None else ()
        good: list[Address] = []
        rejected = error is not None
        for item in parsed:
            address = self._make_address(item.display_name, item.addr_spec)
            if address is None:
                rejected = True
            else:
                good.append(address)
        if rejected or (not good and "@" in raw):
            self.defects.append(f"{name} header: address list not fully readable; scanned the text instead")
            return self._scan_addresses(raw, good)
        return good

    def _scan_addresses(self, raw: str, known: list[Address]) -> list[Address]:
        """``known`` plus every further address-like string in the decoded text (without names)."""
        text, _ = tolerant_header(raw)
        emails = {address.email for address in known}
        found = list(known)
        for match in _ADDRESS_IN_TEXT.finditer(text):
            local, _, domain = match.group(0).rpartition("@")
            domain = domain.strip(".-")
            if not domain or not local.strip("."):
                continue
            email = _lower_domain(f"{local}@{domain}")
            if email not in emails:
                emails.add(email)
                found.append(Address("", email))
                if len(found) >= MAX_ADDRESSES:
                    break
        return found

    def _simple_addresses(self, raw: str) -> list[Address] | None:
        """The addresses of a simple ASCII address list, or ``None`` if it is not that simple."""
        value = raw.replace("\r", "").replace("\n", "")
        if "=?" in value or not _PLAIN_VALUE.fullmatch(value):
            return None
        found: dict[Address, None] = {}
        pos = 0
        while True:
            match = _SIMPLE_MAILBOX.match(value, pos)
            if match is None:
                return None
            quoted, bare_name, angle, plain = match.groups()
            address = self._make_address((quoted or bare_name or "").strip(), angle or plain)
            if address is None:
                return None
            if len(found) < MAX_ADDRESSES:
                found.setdefault(address)
            pos = match.end()
            if pos == len(value):
                return list(found)
            if value[pos] != ",":
                return None
            pos += 1

    def _header(self, name: str, raw: str) -> tuple[object, str | None]:
        """The policy's header object for one field (parsed once), or the error it raised.

        Fields longer than :data:`MAX_PARSED_LENGTH` are not given to the policy's parser, which is
        slow on them; callers then use the tolerant decoding.
        """
        if len(raw) > MAX_PARSED_LENGTH:
            return None, f"longer than {MAX_PARSED_LENGTH} characters"
        key = (name.lower(), raw)
        if key not in self._parsed:
            self._parsed[key] = guarded(lambda: self._policy.header_fetch_parse(name, raw))
        return self._parsed[key]

    def _make_address(self, display_name: str, addr_spec: str) -> Address | None:
        """An :class:`Address` from parsed parts, or ``None`` if the address is unusable."""
        spec, _ = raw_header_text(addr_spec)
        local, at, domain = spec.rpartition("@")
        if not at or not local or not domain or len(spec) > MAX_ADDRESS_LENGTH:
            return None
        if not spec.isprintable() or _BAD_IN_DOMAIN.search(domain) or _BAD_IN_LOCAL.search(local):
            return None
        if domain.startswith("."):
            return None
        name, _ = raw_header_text(display_name)
        return Address(clean_text(name), f"{local}@{domain.lower()}")


def _lower_domain(address: str) -> str:
    """Lower-case the domain of ``local@domain`` only."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _to_utc(value: datetime) -> datetime | None:
    """An aware UTC datetime (naive ones, from ``-0000``, are taken as UTC), or ``None``."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    result, error = guarded(lambda: value.astimezone(UTC))
    return result if error is None else None


def _parse_date_text(text: str) -> datetime | None:
    """Parse RFC 5322-ish date text leniently, or return ``None``."""
    parts, _ = guarded(lambda: email_utils.parsedate_tz(text)) if text else (None, None)
    if not parts:
        return None
    offset = parts[9] or 0

    def _build() -> datetime:
        naive = datetime(*parts[:6])
        return (naive - timedelta(seconds=offset)).replace(tzinfo=UTC)

    value, _ = guarded(_build)
    return value
