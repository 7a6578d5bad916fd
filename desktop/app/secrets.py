"""Secrets in the OS keyring, and a plain statement when there is no secure keyring.

``connectors.secrets.KeyringSecretStore`` is used when it is installed; until then a small
adapter over the ``keyring`` package implements :class:`engine.ports.SecretStore` the same way.
A secret is never stored anywhere else: without a keyring, saving it fails with
:class:`engine.errors.SecretStoreUnavailableError` and the settings page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import SecretStoreUnavailableError
from engine.ports import SecretStore

#: The keyring "service" under which this app's secrets are filed.
KEYRING_SERVICE = "Inbox Triage"

NO_KEYRING_MESSAGE = (
    "This computer has no secure keyring (such as Windows Credential Manager, the macOS Keychain "
    "or GNOME Keyring), so Inbox Triage cannot keep passwords or keys safely — and it does not "
    "store them anywhere else."
)


@dataclass(frozen=True)
class KeyringStatus:
    """Whether a secure keyring is available, its name, and what to tell the user."""

    available: bool
    backend: str
    message: str


def keyring_status() -> KeyringStatus:
    """Look at the keyring backend without reading or writing any secret."""
    import keyring
    import keyring.backends.fail

    backend = keyring.get_keyring()
    name = type(backend).__name__
    priority = float(getattr(backend, "priority", 0) or 0)
    if isinstance(backend, keyring.backends.fail.Keyring) or priority <= 0:
        return KeyringStatus(False, name, NO_KEYRING_MESSAGE)
    return KeyringStatus(True, name, "Secrets are kept in the operating system's keyring.")


class KeyringAdapter:
    """A :class:`engine.ports.SecretStore` over the ``keyring`` package (one namespace per profile)."""

    def __init__(self, namespace: str) -> None:
        self._service = f"{KEYRING_SERVICE} {namespace}".strip()

    def _require(self) -> None:
        if not keyring_status().available:
            raise SecretStoreUnavailableError(NO_KEYRING_MESSAGE)

    def get(self, name: str) -> str | None:
        """The secret called ``name``, or None."""
        import keyring
        import keyring.errors

        self._require()
        try:
            value = keyring.get_password(self._service, name)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailableError(f"the keyring could not be read: {exc}") from exc
        return None if value is None else str(value)

    def set(self, name: str, value: str) -> None:
        """Store (or replace) a secret."""
        import keyring
        import keyring.errors

        self._require()
        try:
            keyring.set_password(self._service, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailableError(f"the keyring refused the secret: {exc}") from exc

    def delete(self, name: str) -> None:
        """Forget a secret (no error when there is none)."""
        import keyring
        import keyring.errors

        self._require()
        try:
            keyring.delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailableError(f"the keyring could not delete the secret: {exc}") from exc


def secret_store(namespace: str) -> SecretStore:
    """The profile's secret store: the connectors' keyring store when present, else the adapter."""
    try:
        from connectors.secrets import KeyringSecretStore  # type: ignore[import-not-found]
    except ImportError:
        return KeyringAdapter(namespace)
    store: SecretStore = KeyringSecretStore(namespace)
    return store
