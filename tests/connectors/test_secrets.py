"""The keyring secret store: real backends work, missing or insecure ones are refused, never plaintext."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from connectors.secrets import NO_KEYRING_MESSAGE, SERVICE, KeyringSecretStore, secure_backend
from engine.errors import SecretStoreUnavailableError
from engine.ports import SecretStore
from tests.support.memory_keyring import MemoryKeyring


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's plaintext file backend (same module name)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class BrokenKeyring(MemoryKeyring):
    """A backend that fails the way a locked Secret Service does."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringError("locked")


def _install(backend: keyring.backend.KeyringBackend) -> Iterator[keyring.backend.KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def plaintext_keyring() -> Iterator[keyring.backend.KeyringBackend]:
    yield from _install(PlaintextKeyring())


@pytest.fixture
def broken_keyring() -> Iterator[keyring.backend.KeyringBackend]:
    yield from _install(BrokenKeyring())


def test_round_trip_in_a_secure_keyring(memory_keyring: MemoryKeyring) -> None:
    store = KeyringSecretStore()
    assert isinstance(store, SecretStore)
    assert store.get("ai-provider:openai") is None
    store.set("ai-provider:openai", "sk-live-123")
    assert store.get("ai-provider:openai") == "sk-live-123"
    assert memory_keyring.passwords == {(SERVICE, "ai-provider:openai"): "sk-live-123"}
    store.delete("ai-provider:openai")
    store.delete("ai-provider:openai")  # absent: no error
    assert store.get("ai-provider:openai") is None


def test_service_names_separate_profiles(memory_keyring: MemoryKeyring) -> None:
    KeyringSecretStore("inbox-triage-test").set("k", "a")
    assert KeyringSecretStore().get("k") is None
    assert memory_keyring.passwords == {("inbox-triage-test", "k"): "a"}


def test_no_keyring_refuses_with_a_plain_message(no_keyring: keyring.backend.KeyringBackend) -> None:
    store = KeyringSecretStore()
    assert secure_backend() is None
    for call in (lambda: store.set("k", "v"), lambda: store.get("k"), lambda: store.delete("k")):
        with pytest.raises(SecretStoreUnavailableError) as caught:
            call()
        assert str(caught.value) == NO_KEYRING_MESSAGE
    assert NO_KEYRING_MESSAGE.startswith("No secure keyring is available on this computer")


def test_null_backend_is_refused() -> None:
    for _ in _install(keyring.backends.null.Keyring()):
        assert secure_backend() is None
        with pytest.raises(SecretStoreUnavailableError):
            KeyringSecretStore().set("k", "v")


def test_plaintext_backend_is_never_used(plaintext_keyring: PlaintextKeyring) -> None:
    with pytest.raises(SecretStoreUnavailableError):
        KeyringSecretStore().set("ai-provider:openai", "sk-live-123")
    assert plaintext_keyring.passwords == {}


def test_chainer_with_a_plaintext_member_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    chainer = keyring.backends.chainer.ChainerBackend()
    members = [MemoryKeyring(), PlaintextKeyring()]
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", members)
    for _ in _install(chainer):
        assert secure_backend() is None
    monkeypatch.setattr(
        keyring.backends.chainer.ChainerBackend, "backends", [MemoryKeyring(), MemoryKeyring()]
    )
    for _ in _install(chainer):
        assert secure_backend() is chainer


def test_backend_errors_are_translated(broken_keyring: BrokenKeyring) -> None:
    store = KeyringSecretStore()
    with pytest.raises(SecretStoreUnavailableError, match="could not be read") as caught:
        store.get("k")
    assert isinstance(caught.value.__cause__, keyring.errors.KeyringError)
    with pytest.raises(SecretStoreUnavailableError, match="refused"):
        store.set("k", "v")
    with pytest.raises(SecretStoreUnavailableError, match="could not delete"):
        store.delete("k")
