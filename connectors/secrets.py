"""Secrets in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service).

Never falls back to a plaintext file: when no secure backend exists, every call raises
:class:`engine.errors.SecretStoreUnavailableError` with a message saying what to do. Insecure
means keyring's ``fail`` and ``null`` backends, anything from ``keyrings.alt`` (plaintext and
"encrypted" files), a backend whose priority says it is not usable, and a chainer that would
hand a secret to any of those.
"""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.errors

from engine.errors import SecretStoreUnavailableError

SERVICE = "inbox-triage"

#: Backends that do not keep secrets safely (or at all).
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")

NO_KEYRING_MESSAGE = (
    "No secure keyring is available on this computer, so the secret was not saved. "
    "On Linux install and unlock a Secret Service keyring (GNOME Keyring or KWallet); "
    "Windows and macOS provide one by default."
)


def _insecure(backend: keyring.backend.KeyringBackend) -> bool:
    module = type(backend).__module__
    return any(module.startswith(m) for m in _INSECURE_MODULES) or backend.priority <= 0


def secure_backend() -> keyring.backend.KeyringBackend | None:
    """The active keyring backend, or None when it is missing or insecure."""
    backend = keyring.get_keyring()
    if _insecure(backend):
        return None
    if isinstance(backend, keyring.backends.chainer.ChainerBackend) and any(
        _insecure(child) for child in backend.backends
    ):
        return None
    return backend


class KeyringSecretStore:
    """:class:`engine.ports.SecretStore` over the OS keyring, under one service name."""

    def __init__(self, service: str = SERVICE) -> None:
        self._service = service

    def _backend(self) -> keyring.backend.KeyringBackend:
        backend = secure_backend()
        if backend is None:
            raise SecretStoreUnavailableError(NO_KEYRING_MESSAGE)
        return backend

    def get(self, name: str) -> str | None:
        """The secret stored under ``name``, or None."""
        try:
            return self._backend().get_password(self._service, name)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailableError(f"the keyring could not be read: {exc}") from exc

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``."""
        try:
            self._backend().set_password(self._service, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailableError(f"the keyring refused the secret: {exc}") from exc

    def delete(self, name: str) -> None:
        """Forget the secret under ``name`` (no error when absent)."""
        try:
            self._backend().delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailableError(f"the keyring could not delete the secret: {exc}") from exc
