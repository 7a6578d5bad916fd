"""Fixtures of the IMAP connector tests (the Dovecot fixtures come from tests/servers)."""

from tests.connectors.imap.helpers import engine_db, imap
from tests.connectors.imap.proxy import counting_proxy_factory

__all__ = ["counting_proxy_factory", "engine_db", "imap"]
