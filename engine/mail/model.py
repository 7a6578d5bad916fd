"""The engine's picture of one email after parsing.

These are plain frozen dataclasses so that every step, the storage layer and the adapters can share
them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """One mailbox: a display name (possibly empty) and an address (lower-cased domain)."""

    name: str
    email: str

    def formatted(self) -> str:
        """Return ``Name <email>`` or just the address when there is no name."""
        if self.name:
            return f"{self.name} <{self.email}>"
        return self.email


@dataclass(frozen=True)
class Attachment:
    """An attachment's metadata; its content is kept only in the raw message."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedEmail:
    """A message the engine understood well enough to triage.

    ``body_text`` is the readable text (HTML converted when there was no text part);
    ``body_html`` keeps the original HTML, if any, for a sanitised view; ``defects`` lists the
    problems the parser worked around (bad charset, broken header...), for display only.
    """

    message_id: str | None
    subject: str
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    body_text: str
    body_html: str | None
    attachments: tuple[Attachment, ...]
    auto_submitted: bool = False
    list_id: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    defects: tuple[str, ...] = field(default=())

    @property
    def reply_address(self) -> Address | None:
        """Where a reply goes: the first Reply-To, else the sender."""
        if self.reply_to:
            return self.reply_to[0]
        return self.sender


@dataclass(frozen=True)
class Quarantined:
    """A message the engine could not understand as an email, kept with the reason why.

    ``reason`` is a plain-English sentence for staff; ``message_id`` is the normalised Message-ID if
    one could be found in the raw bytes (used to recognise the same message again).
    """

    reason: str
    message_id: str | None = None
