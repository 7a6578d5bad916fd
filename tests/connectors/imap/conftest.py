"""Fixtures of the IMAP connector tests (the Dovecot fixtures come from tests/servers)."""

from tests.connectors.imap.google import fake_google, oauth_dovecot, oauth_dovecot_server
from tests.connectors.imap.helpers import engine_db, imap
from tests.connectors.imap.proxy import counting_proxy_factory

__all__ = [
    "counting_proxy_factory",
    "engine_db",
    "fake_google",
    "imap",
    "oauth_dovecot",
    "oauth_dovecot_server",
]
