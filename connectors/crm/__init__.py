"""Remote CRM connectors implementing :class:`engine.ports.CrmClient`, idempotent with reconcile.

* :class:`HubSpotCrm`, :class:`PipedriveCrm`, :class:`WebhookCrm`; :func:`build_crm` picks one for
  a :class:`CrmSettings`. Each has ``test_connection() -> ConnectionTestResult(ok, message)``.
* :func:`activity_marker`, :func:`note_html` — the marker and minimised text of a logged email.
* :func:`crm_settings_from_json`, :func:`crm_secret_name`.
"""

from __future__ import annotations

from connectors.crm.base import CrmBase, activity_marker, note_html
from connectors.crm.hubspot import HubSpotCrm
from connectors.crm.pipedrive import PipedriveCrm
from connectors.crm.settings import CrmSettings, crm_secret_name, crm_settings_from_json
from connectors.crm.webhook import WebhookCrm, sign
from connectors.http import HttpClientFactory
from connectors.ratelimit import RateLimiter
from engine.errors import ConfigurationError
from engine.ports import SecretStore

__all__ = [
    "CrmBase",
    "CrmSettings",
    "HubSpotCrm",
    "PipedriveCrm",
    "WebhookCrm",
    "activity_marker",
    "build_crm",
    "crm_secret_name",
    "crm_settings_from_json",
    "note_html",
    "sign",
]


def build_crm(
    settings: CrmSettings,
    http: HttpClientFactory,
    secrets: SecretStore,
    *,
    limiter: RateLimiter | None = None,
) -> CrmBase:
    """The connector for ``settings.kind``."""
    kinds: dict[str, type[CrmBase]] = {
        "hubspot": HubSpotCrm,
        "pipedrive": PipedriveCrm,
        "webhook": WebhookCrm,
    }
    if settings.kind not in kinds:
        raise ConfigurationError(f"Unknown CRM type {settings.kind!r}.")
    return kinds[settings.kind](settings, http, secrets, limiter=limiter)
