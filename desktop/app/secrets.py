"""Secrets in the OS keyring, and a plain statement when there is no secure keyring.

The store is ``connectors.secrets.KeyringSecretStore`` (or whatever secret store the composition
root wired into the profile's connections). A secret is never stored anywhere else: without a
secure keyring, saving it raises :class:`engine.errors.SecretStoreUnavailableError` and the
settings page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.secrets import NO_KEYRING_MESSAGE, KeyringSecretStore, secure_backend

if TYPE_CHECKING:
    from engine.ports import SecretStore
    from engine.service import TriageService

__all__ = ["NO_KEYRING_MESSAGE", "KeyringStatus", "keyring_status", "secret_store"]


@dataclass(frozen=True)
class KeyringStatus:
    """Whether a secure keyring is available, its name, and what to tell the user."""

    available: bool
    backend: str
    message: str


def keyring_status() -> KeyringStatus:
    """Look at the keyring backend without reading or writing any secret."""
    backend = secure_backend()
    if backend is None:
        return KeyringStatus(False, "", NO_KEYRING_MESSAGE)
    name = type(backend).__name__
    return KeyringStatus(True, name, f"Secrets are kept in the operating system's keyring ({name}).")


def secret_store(service: TriageService) -> SecretStore:
    """The profile's secret store: the one wired into its connections, else the OS keyring."""
    wired = service.connections.secrets
    return wired if wired is not None else KeyringSecretStore()
