"""Writing header fields of outgoing mail exactly, bypassing the standard library's refolding.

``email.policy`` re-parses every string assigned to a header, so text that merely looks like an
RFC 2047 encoded word (``=?...?=``) is decoded on the way out, and long Message-IDs are turned
into encoded words when folded. Both break replies. The helpers here build each field's final
text (RFC 2047-encoding only what needs it) and wrap it in :class:`PreparedHeader`, which the
policy writes as given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.header import Header
from email.policy import Policy

MAX_LINE = 78
_HARD_LIMIT = 900
_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')


class PreparedHeader(str):
    """A header field whose folded text is fixed in advance; ``EmailPolicy`` calls :meth:`fold`."""

    name: str
    lines: tuple[str, ...]
    defects: tuple[object, ...] = ()

    def __new__(cls, name: str, lines: Sequence[str]) -> PreparedHeader:
        """A header ``name`` written as ``lines`` (the first after ``Name: ``, the rest indented)."""
        header = super().__new__(cls, " ".join(line.strip() for line in lines))
        header.name = name
        header.lines = tuple(lines)
        return header

    def fold(self, *, policy: Policy) -> str:
        """The header as written, with the policy's line separator."""
        return f"{self.name}: " + policy.linesep.join(self.lines) + policy.linesep


def id_list_header(name: str, ids: Sequence[str]) -> PreparedHeader:
    """Message-IDs (or other opaque tokens), one per line, never encoded."""
    return PreparedHeader(name, [ids[0], *(f" {item}" for item in ids[1:])])


def text_header(name: str, text: str) -> PreparedHeader:
    """Unstructured text (a Subject): plain when it can be, RFC 2047 UTF-8 words when it must."""
    words = text.split(" ")
    plain = 0
    while plain < len(words) and _is_plain(words[plain]):
        plain += 1
    if plain == len(words):
        return PreparedHeader(name, _fold_words(words, len(name) + 2))
    prefix = " ".join(words[:plain])
    rest = " ".join(words[plain:])
    encoded = Header(rest, "utf-8", header_name=name if not prefix else None).encode(linesep="\n")
    lines = encoded.split("\n")
    if prefix:
        lines[0] = f"{prefix} {lines[0]}"
    return PreparedHeader(name, lines)


def address_header(name: str, addresses: Sequence[tuple[str, str]]) -> PreparedHeader:
    """A list of ``(display name, address)`` pairs, names quoted or RFC 2047-encoded as needed."""
    items = [_format_address(display, address) for display, address in addresses]
    lines: list[str] = []
    current = ""
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        if current and len(current) + 1 + len(piece) > MAX_LINE - len(name) - 2:
            lines.append(current)
            current = " " + piece
        else:
            current = f"{current} {piece}" if current else piece
    lines.append(current)
    return PreparedHeader(name, lines)


def _format_address(display: str, address: str) -> str:
    """``Name <address>`` with the name quoted, or encoded when it is not plain ASCII."""
    if not display:
        return address
    if display.isascii() and "=?" not in display:
        if _SPECIALS.search(display):
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{display} <{address}>"
    return f"{Header(display, 'utf-8').encode()} <{address}>"


def _is_plain(word: str) -> bool:
    """Whether a word can be written as is: printable ASCII, no encoded-word look-alike, not huge."""
    return word.isascii() and word.isprintable() and "=?" not in word and len(word) < _HARD_LIMIT


def _fold_words(words: list[str], first_offset: int) -> list[str]:
    """Fold plain words into lines of about :data:`MAX_LINE` characters, breaking before a space."""
    lines: list[str] = []
    current = ""
    width = first_offset
    for index, word in enumerate(words):
        if index and width + len(current) + 1 + len(word) > MAX_LINE and current.strip():
            lines.append(current)
            current, width = " " + word, 0
        else:
            current = f"{current} {word}" if index else word
    lines.append(current)
    return lines
