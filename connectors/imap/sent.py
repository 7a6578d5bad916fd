"""The Sent folder of an IMAP account: file copies of sent replies, and find them again.

After a reply went out over SMTP a copy is appended here with ``\\Seen``. When the SMTP
connection died after the message data was handed over (the server may have accepted it) the copy
is appended with the extra keyword ``$TriageUnconfirmed`` as well: before any retry the engine
reconciles by searching this folder for the reply's Message-ID, so the reply is never sent twice.
Providers that file sent mail themselves (Gmail, Microsoft 365) are only searched.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.imap.client import ImapClient, quote
from connectors.imap.errors import ImapCommandError
from connectors.imap.session import ImapSession

DEFAULT_SENT_FOLDER = "Sent"
UNCONFIRMED_KEYWORD = "$TriageUnconfirmed"


@dataclass(frozen=True)
class SentCopy:
    """A reply found in the Sent folder: its UID and whether the send was confirmed by the server."""

    folder: str
    uid: int
    confirmed: bool


class SentFolder:
    """Appends to and searches one folder over an account's (shared) IMAP session."""

    def __init__(self, session: ImapSession, folder: str = DEFAULT_SENT_FOLDER) -> None:
        self.session = session
        self.folder = folder

    def append(self, mime: bytes, *, confirmed: bool = True) -> int | None:
        """File a copy (``\\Seen``; plus ``$TriageUnconfirmed`` when not confirmed); return its UID."""
        flags = ["\\Seen"] if confirmed else ["\\Seen", UNCONFIRMED_KEYWORD]
        return self.session.run(lambda client: self._append(client, mime, flags))

    def find(self, message_id: str) -> SentCopy | None:
        """The copy carrying ``message_id``, or None."""
        return self.session.run(lambda client: self._find(client, message_id))

    def _append(self, client: ImapClient, mime: bytes, flags: list[str]) -> int | None:
        try:
            return client.append(self.folder, mime, flags=flags)
        except ImapCommandError as exc:
            if "TRYCREATE" not in str(exc):
                raise
            client.create(self.folder)
            return client.append(self.folder, mime, flags=flags)

    def _find(self, client: ImapClient, message_id: str) -> SentCopy | None:
        self.session.select(client, self.folder, refresh=True)
        uids = client.uid_search("HEADER", "Message-ID", quote(message_id))
        if not uids:
            return None
        flags = client.fetch_flags(uids[:1]).get(uids[0], frozenset())
        return SentCopy(
            self.folder, uids[0], confirmed=UNCONFIRMED_KEYWORD.lower() not in {f.lower() for f in flags}
        )
