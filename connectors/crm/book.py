"""The profile's remote CRM: the ``crm`` settings section plus its token or secret in the keyring.

At most one remote CRM is connected at a time (HubSpot, Pipedrive or a webhook); without one the
built-in contacts (the local CRM) are used. :class:`CrmBook` connects (validating first, storing
the token before the section so that "no keyring" leaves nothing half-saved) and disconnects
(forgetting the token).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.accounts import SectionStore
from connectors.crm.settings import CrmSettings, crm_settings_from_json
from engine.errors import ConfigurationError, SecretStoreUnavailableError
from engine.ports import SecretStore

#: The settings section holding the connected CRM (JSON; never the token). ``{}`` = none.
SECTION = "crm"


@dataclass
class CrmBook:
    """The connected CRM, if any; its token or webhook secret in the keyring (``secrets``)."""

    store: SectionStore
    secrets: SecretStore | None = None

    def current(self) -> CrmSettings | None:
        """The connected CRM's settings, or ``None`` (the built-in contacts)."""
        return crm_settings_from_json(self.store.section(SECTION))

    def has_secret(self, settings: CrmSettings | None = None) -> bool:
        """Whether the keyring holds the token/secret of ``settings`` (default: the connected CRM)."""
        settings = settings or self.current()
        if settings is None or self.secrets is None:
            return False
        try:
            return bool(self.secrets.get(settings.secret_name))
        except SecretStoreUnavailableError:
            return False

    def connect(
        self, settings: CrmSettings, *, secret: str | None = None, actor: str | None = None
    ) -> CrmSettings:
        """Validate and connect ``settings`` (replacing any CRM connected before).

        ``secret`` (the API token, or the webhook's shared secret) goes to the keyring first; a
        different CRM connected before has its secret forgotten.
        """
        settings.validate()
        previous = self.current()
        if secret is not None:
            if not secret:
                raise ConfigurationError(f"CRM {settings.name!r}: the token is empty.")
            if self.secrets is None:
                raise ConfigurationError("no secret store is available to keep the token")
            self.secrets.set(settings.secret_name, secret)
        self.store.save_section(SECTION, settings.to_json(), actor=actor)
        if previous is not None and previous.secret_name != settings.secret_name:
            self._forget(previous)
        return settings

    def disconnect(self, *, actor: str | None = None) -> CrmSettings | None:
        """Go back to the built-in contacts; forget the token. Returns what was connected."""
        previous = self.current()
        if previous is None:
            return None
        self.store.save_section(SECTION, {}, actor=actor)
        self._forget(previous)
        return previous

    def _forget(self, settings: CrmSettings) -> None:
        if self.secrets is None:
            return
        try:
            self.secrets.delete(settings.secret_name)
        except SecretStoreUnavailableError:
            return  # no keyring: nothing was kept
