"""Fixtures of the SMTP connector tests: Dovecot (for the Sent folder) and aiosmtpd (tests/servers)."""

from tests.connectors.imap.helpers import engine_db, imap

__all__ = ["engine_db", "imap"]
