"""A fast, tolerant look at the header block of raw message bytes, without parsing MIME.

Used before parsing, to dedupe by Message-ID and to decide whether the bytes are an email at all.
Both :func:`peek_message_id` and the parser derive the Message-ID from the same scan, so they
always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(rb"([^\r\n]*)(?:\r\n|\r|\n|$)")
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_MBOX_FROM = b"From "
_BOM = b"\xef\xbb\xbf"
_BRACKETED = re.compile(r"<([^<>]*)>")
_MSGID_TEXT = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]+")  # printable ASCII without < and >
MAX_MESSAGE_ID_LENGTH = 250
MAX_HEADER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class HeaderBlock:
    """The header fields found at the start of a message: lower-cased names and raw values."""

    fields: tuple[tuple[str, bytes], ...]

    def names(self) -> frozenset[str]:
        """The lower-cased names of the fields present."""
        return frozenset(name for name, _ in self.fields)

    def first(self, name: str) -> bytes | None:
        """The raw (unfolded) value of the first field called ``name`` (lower-case), or ``None``."""
        for field_name, value in self.fields:
            if field_name == name:
                return value
        return None


def scan_header_block(raw: bytes) -> HeaderBlock:
    """Collect the header fields at the start of ``raw``.

    A leading byte-order mark and an mbox ``From `` line are skipped. The block ends at the first
    empty line or the first line that is neither a field nor a continuation. If the first line is
    not a field, the block is empty. Only the first megabyte is looked at.
    """
    data = raw[:MAX_HEADER_BYTES]
    pos = len(_BOM) if data.startswith(_BOM) else 0
    if data.startswith(_MBOX_FROM, pos):
        line_end = _LINE.match(data, pos)
        pos = line_end.end() if line_end else len(data)
    fields: list[tuple[str, bytes]] = []
    current: list[bytes] = []
    name = ""
    while pos < len(data):
        match = _LINE.match(data, pos)
        if match is None or match.end() == pos:
            break
        line, pos = match.group(1), match.end()
        if line[:1] in (b" ", b"\t") and current:
            current.append(line)
            continue
        field = _FIELD.match(line)
        if not field:
            break
        if current:
            fields.append((name, b"".join(current)))
        name = field.group(1).decode("ascii").lower()
        current = [line[field.end() :].lstrip(b" \t")]
    if current:
        fields.append((name, b"".join(current)))
    return HeaderBlock(tuple(fields))


def normalise_message_id(value: str | bytes | None) -> str | None:
    """Return the first Message-ID in ``value`` as ``<id>``, or ``None`` if there is none.

    Accepts the bracketed form and, failing that, a bare token. Ids with characters outside
    printable ASCII, or longer than :data:`MAX_MESSAGE_ID_LENGTH`, are not ids.
    """
    ids = message_ids(value, limit=1)
    return ids[0] if ids else None


def message_ids(value: str | bytes | None, *, limit: int | None = None) -> list[str]:
    """All Message-IDs in a References-like value, normalised to ``<id>``, in order."""
    if value is None:
        return []
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    candidates = _BRACKETED.findall(text)
    if not candidates:
        candidates = [token.strip("<>") for token in text.replace(",", " ").split()]
    found: list[str] = []
    for candidate in candidates:
        core = "".join(candidate.split())
        if 0 < len(core) <= MAX_MESSAGE_ID_LENGTH and _MSGID_TEXT.fullmatch(core):
            found.append(f"<{core}>")
            if limit is not None and len(found) >= limit:
                break
    return found


def peek_message_id(raw: bytes) -> str | None:
    """The normalised Message-ID from the header block of ``raw``, without parsing the message.

    Never raises on content; returns ``None`` when there is no usable Message-ID.
    """
    return normalise_message_id(scan_header_block(raw).first("message-id"))
