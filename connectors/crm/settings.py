"""Settings of the remote CRM (HubSpot, Pipedrive or a webhook), stored as a JSON settings section.

The token or shared secret lives in the keyring under :func:`crm_secret_name`, never here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ConfigurationError

CRM_KINDS = ("hubspot", "pipedrive", "webhook")
DEFAULT_BASE_URLS = {"hubspot": "https://api.hubapi.com", "pipedrive": "https://api.pipedrive.com"}


def crm_secret_name(name: str) -> str:
    """The keyring entry holding a CRM's token (HubSpot, Pipedrive) or shared secret (webhook)."""
    return f"crm:{name}"


@dataclass(frozen=True)
class CrmSettings:
    """One connected CRM.

    ``base_url`` is the API root (default ``https://api.hubapi.com`` or
    ``https://api.pipedrive.com``, overridable, e.g. ``https://<company>.pipedrive.com``); for a
    webhook it is the full URL to POST to. ``token_in_query`` sends Pipedrive's token as the
    ``api_token`` query parameter instead of the ``x-api-token`` header (not recommended: URLs end
    up in logs).
    """

    kind: str
    name: str = ""
    base_url: str = ""
    timeout_s: float = 30.0
    token_in_query: bool = False

    def __post_init__(self) -> None:
        """Fill in the name and default base URL of the kind."""
        if not self.name:
            object.__setattr__(self, "name", self.kind)
        if not self.base_url and self.kind in DEFAULT_BASE_URLS:
            object.__setattr__(self, "base_url", DEFAULT_BASE_URLS[self.kind])

    @property
    def secret_name(self) -> str:
        """The keyring entry holding the token or secret."""
        return crm_secret_name(self.name)

    @property
    def host(self) -> str:
        """The host requests go to (for the egress allow-list and the audit log)."""
        return (urlsplit(self.base_url).hostname or "").lower()

    def validate(self) -> CrmSettings:
        """Return self, or raise ConfigurationError naming the bad field."""
        if self.kind not in CRM_KINDS:
            raise ConfigurationError(f"CRM: the type must be one of {', '.join(CRM_KINDS)}.")
        parts = urlsplit(self.base_url)
        what = "webhook URL" if self.kind == "webhook" else "base URL"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"CRM {self.name!r}: the {what} must start with https://.")
        if parts.fragment or (self.kind != "webhook" and parts.query):
            raise ConfigurationError(f"CRM {self.name!r}: the {what} must not contain ? or #.")
        if not 1 <= self.timeout_s <= 300:
            raise ConfigurationError(f"CRM {self.name!r}: the timeout must be between 1 and 300 seconds.")
        return self

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for the settings store."""
        return asdict(self)


def crm_settings_from_json(data: Any) -> CrmSettings | None:
    """Build CrmSettings from stored JSON (``None`` when no CRM is connected)."""
    if not isinstance(data, dict) or "kind" not in data:
        return None
    known = {f.name for f in fields(CrmSettings)}
    return CrmSettings(**{k: v for k, v in data.items() if k in known})
