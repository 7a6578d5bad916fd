"""Suite-wide set-up: offscreen Qt, and the shared fixtures from tests/support and tests/servers.

Area-specific fixtures belong in tests/<area>/conftest.py, not here.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = [
    "tests.support.memory_keyring",
    "tests.support.certs",
    "tests.servers.dovecot",
    "tests.servers.smtp",
    "tests.servers.postgres",
    "tests.servers.xvfb",
    "tests.servers.mbsync",
]

# Tests using any of these fixtures get the `server` marker, so `-m "not server"` skips them.
SERVER_FIXTURES = frozenset(
    {
        "dovecot",
        "dovecot_server",
        "smtp_server",
        "smtp_starttls_server",
        "smtps_server",
        "smtp_server_factory",
        "postgres",
        "postgres_database",
        "xvfb_display",
        "mbsync_binary",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a real-server fixture with `server`."""
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
