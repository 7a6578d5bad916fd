"""Fixtures of the SMTP connector tests: Dovecot (for the Sent folder) and aiosmtpd (tests/servers)."""

from tests.connectors.imap.google import fake_google
from tests.connectors.imap.helpers import engine_db, imap

__all__ = ["engine_db", "fake_google", "imap"]
