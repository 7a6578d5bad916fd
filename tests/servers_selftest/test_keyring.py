"""The keyring fixtures: an in-memory backend, and the failing backend of a headless box."""

from __future__ import annotations

import keyring
import keyring.errors
import pytest

from tests.support.memory_keyring import MemoryKeyring


def test_memory_keyring_set_get_delete(memory_keyring: MemoryKeyring) -> None:
    """keyring's module API goes to the in-memory backend."""
    assert keyring.get_keyring() is memory_keyring
    assert keyring.get_password("inbox-triage", "imap:office") is None
    keyring.set_password("inbox-triage", "imap:office", "s3cret")
    assert keyring.get_password("inbox-triage", "imap:office") == "s3cret"
    assert memory_keyring.passwords == {("inbox-triage", "imap:office"): "s3cret"}
    keyring.delete_password("inbox-triage", "imap:office")
    assert keyring.get_password("inbox-triage", "imap:office") is None


def test_memory_keyring_delete_missing_raises(memory_keyring: MemoryKeyring) -> None:
    """Deleting an absent password raises PasswordDeleteError, as real backends do."""
    with pytest.raises(keyring.errors.PasswordDeleteError):
        keyring.delete_password("inbox-triage", "nobody")


def test_no_keyring_refuses_to_store(no_keyring: keyring.backend.KeyringBackend) -> None:
    """The headless case: storing a secret raises NoKeyringError (the app must say so, not fall back)."""
    assert keyring.get_keyring() is no_keyring
    with pytest.raises(keyring.errors.NoKeyringError):
        keyring.set_password("inbox-triage", "imap:office", "s3cret")
