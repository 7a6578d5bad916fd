"""Building test mail and IMAP connectors pointed at the test Dovecot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.imap.endpoint import Endpoint, Security
from connectors.imap.login import PasswordLogin
from connectors.imap.session import Backoff, ConnectionStatus, ImapSession
from connectors.imap.source import ImapSource, ProcessedAction
from engine.storage import migrate
from engine.storage.db import Database, sqlite_url
from engine.storage.models import Email, Run, table_of
from tests.servers.dovecot import DovecotMailbox

#: Reconnection delays short enough for tests, with enough attempts to outlast a Dovecot restart.
FAST_BACKOFF = Backoff(initial_s=0.05, multiplier=2.0, max_s=0.4, max_attempts=25)


def message(
    number: int,
    *,
    message_id: str | None = None,
    subject: str | None = None,
    sender: str = "Sam Client <sam@client.example>",
    date: datetime | None = None,
    body: str | None = None,
) -> bytes:
    """A small plain-text email; ``number`` makes its Message-ID and subject unique."""
    mid = message_id or f"<msg-{number}@client.example>"
    when = format_datetime(date or datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    text = body or f"Hello,\r\nCould you quote for order {number}?\r\nThanks, Sam\r\n"
    return (
        f"From: {sender}\r\nTo: Office <office@print.example>\r\nSubject: {subject or f'Order {number}'}\r\n"
        f"Date: {when}\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    ).encode()


@dataclass
class ImapHarness:
    """Endpoints, logins, sessions and sources for this test's Dovecot user; closes what it opened."""

    dovecot: DovecotMailbox
    statuses: list[ConnectionStatus] = field(default_factory=list)
    _sessions: list[ImapSession] = field(default_factory=list)

    def endpoint(self, security: Security = "tls", *, port: int | None = None, ca: bool = True) -> Endpoint:
        """IMAPS (default), STARTTLS or plain; trusting the test CA unless ``ca=False``."""
        default = self.dovecot.imaps_port if security == "tls" else self.dovecot.imap_port
        return Endpoint(
            self.dovecot.host,
            port or default,
            security,
            ca_file=str(self.dovecot.ca_file) if ca else None,
            timeout_s=10.0,
        )

    def login(self, password: str | None = None) -> PasswordLogin:
        """The test user's login (or with another password)."""
        secret = password if password is not None else self.dovecot.password
        return PasswordLogin(self.dovecot.user, lambda: secret)

    def session(
        self,
        security: Security = "tls",
        *,
        port: int | None = None,
        backoff: Backoff = FAST_BACKOFF,
        account: str = "office",
    ) -> ImapSession:
        """A session closed after the test; status messages go to ``statuses``."""
        session = ImapSession(
            self.endpoint(security, port=port),
            self.login(),
            account=account,
            backoff=backoff,
            status=self.statuses.append,
        )
        self._sessions.append(session)
        return session

    def source(
        self,
        session: ImapSession | None = None,
        *,
        folder: str = "INBOX",
        processed: ProcessedAction | None = None,
        batch_size: int = 500,
        first_sync_days: int = 14,
    ) -> ImapSource:
        """A source on ``session`` (a new IMAPS session by default)."""
        return ImapSource(
            session or self.session(),
            folder=folder,
            processed=processed,
            batch_size=batch_size,
            first_sync_days=first_sync_days,
        )

    def seed(self, count: int, *, start: int = 1, folder: str = "INBOX") -> list[int]:
        """Append ``count`` numbered messages; return their UIDs."""
        return self.dovecot.append_many(
            self.dovecot.user, folder, [message(n) for n in range(start, start + count)]
        )

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        """The flags of one message, read with a separate connection."""
        connection = self.dovecot.connect()
        try:
            connection.select(f'"{folder}"')
            status, data = connection.uid("FETCH", str(uid), "(FLAGS)")
            assert status == "OK"
            line = data[0].decode() if isinstance(data[0], bytes) else ""
        finally:
            connection.logout()
        inside = line.split("FLAGS (", 1)[1].split(")", 1)[0] if "FLAGS (" in line else ""
        return set(inside.split())

    def uids(self, folder: str = "INBOX") -> list[int]:
        """All UIDs in a folder."""
        connection = self.dovecot.connect()
        try:
            connection.select(f'"{folder}"')
            status, data = connection.uid("SEARCH", "ALL")
            assert status == "OK"
        finally:
            connection.logout()
        return [int(x) for x in data[0].split()] if data and data[0] else []

    def close(self) -> None:
        """Close every session opened through the harness."""
        for session in self._sessions:
            session.close()


@pytest.fixture
def imap(dovecot: DovecotMailbox) -> Iterator[ImapHarness]:
    """IMAP connectors for this test's fresh Dovecot user."""
    harness = ImapHarness(dovecot)
    yield harness
    harness.close()


@pytest.fixture
def engine_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated engine database (SQLite in the test's temporary folder)."""
    database = Database(sqlite_url(tmp_path / "engine.db"))
    migrate.upgrade(database)
    yield database
    database.dispose()


def run_counts(db: Database) -> dict[str, int]:
    """How many runs exist per Message-ID (every stored email has exactly one run)."""
    emails, runs = table_of(Email), table_of(Run)
    with db.read() as conn:
        rows = conn.execute(
            select(emails.c.message_id, func.count(runs.c.id))
            .join(runs, runs.c.email_id == emails.c.id)
            .group_by(emails.c.message_id)
        ).fetchall()
    return {str(row[0]): int(row[1]) for row in rows}
