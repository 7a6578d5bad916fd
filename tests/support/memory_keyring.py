"""An in-memory keyring backend and fixtures that install it (or the failing backend) for one test.

A headless Linux box has no keyring backend; tests must never touch the developer's real one.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend holding passwords in a dict (service, username) -> password."""

    priority = 1.0

    def __init__(self) -> None:
        """Start empty."""
        super().__init__()  # type: ignore[no-untyped-call]  # keyring is untyped here
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """Return the stored password, or None when there is none."""
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store (or replace) a password."""
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Delete a password; raise PasswordDeleteError when it does not exist."""
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(f"no password for {username!r} in {service!r}") from None


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install a fresh in-memory keyring for the test; restore the previous backend afterwards."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[keyring.backends.fail.Keyring]:
    """Install keyring's failing backend (as on a headless box); restore the previous one afterwards."""
    previous = keyring.get_keyring()
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
