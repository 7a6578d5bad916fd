"""The isync `mbsync` binary: the speed reference for pulling a mailbox."""

from __future__ import annotations

import pytest

from tests.support.binaries import requires_binary


@pytest.fixture(scope="session")
def mbsync_binary() -> str:
    """Path of `mbsync` (skips outside CI when isync is not installed, fails under CI=true)."""
    return requires_binary("mbsync", "isync")
