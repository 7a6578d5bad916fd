"""What the CRM connectors share: the HTTP client, limits, the idempotency marker, the note text.

Each activity carries a marker derived from its idempotency key (``inboxtriage`` + 32 hex digits
of its SHA-256) in the note it creates. Reconciling after a lost response means finding a note
with that marker, so a retried write never creates a second note. What a CRM receives is
minimised: the category and one summary line, never the message body.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any, Self

import httpx

from connectors.crm.settings import CrmSettings
from connectors.errors import AuthenticationError, ConnectorError, RateLimitedError
from connectors.http import ConnectionTestResult, HttpClientFactory, json_object, request
from connectors.ratelimit import RateLimiter
from engine.errors import SecretStoreUnavailableError
from engine.ports import CrmActivity, SecretStore

MARKER_PREFIX = "inboxtriage"


def activity_marker(idempotency_key: str) -> str:
    """The single-token marker that identifies an activity's note (safe for full-text search)."""
    return MARKER_PREFIX + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def note_html(activity: CrmActivity) -> str:
    """The note: category and summary line, when, and the marker — no message body."""
    when = activity.occurred_at.strftime("%d %b %Y %H:%M")
    marker = activity_marker(activity.idempotency_key)
    return (
        f"<p>{html.escape(activity.summary)}</p>"
        f"<p>Email received {when}; category {html.escape(activity.category)}; "
        f"logged by Inbox Triage (ref {marker})</p>"
    )


class CrmBase:
    """An HTTP CRM client: settings, token from the keyring, egress-guarded client, rate limit."""

    label = "CRM"

    def __init__(
        self,
        settings: CrmSettings,
        http: HttpClientFactory,
        secrets: SecretStore,
        *,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings.validate()
        self._secrets = secrets
        self._client = http.client(
            purpose=f"crm:{settings.name}", base_url=settings.base_url.rstrip("/"), timeout=settings.timeout_s
        )
        self.limiter = limiter or RateLimiter(100, 10.0, max_concurrency=4, burst=20, name=self.label)

    @property
    def name(self) -> str:
        """The configured CRM name shown in the audit log and settings."""
        return self.settings.name

    @property
    def destination(self) -> str:
        """Host name of the CRM API."""
        return self.settings.host

    def secret(self) -> str:
        """The token or shared secret from the keyring."""
        value = self._secrets.get(self.settings.secret_name)
        if not value:
            raise AuthenticationError(f"No token is stored for {self.label}; enter it in Settings → CRM.")
        return value

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, str | int] | None = None,
        headers: dict[str, str] | None = None,
        applies_effect: bool = False,
    ) -> httpx.Response:
        """One request under the rate limit; a 429 pauses the CRM for its Retry-After."""
        with self.limiter.slot(max_wait=self.settings.timeout_s):
            try:
                return request(
                    self._client,
                    method,
                    path,
                    service=self.label,
                    json=json,
                    content=content,
                    params=params,
                    headers=headers,
                    applies_effect=applies_effect,
                )
            except RateLimitedError as exc:
                self.limiter.pause(exc.retry_after if exc.retry_after is not None else 10.0)
                raise

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        return json_object(response, service=self.label)

    def _test(self, probe: Any) -> ConnectionTestResult:
        try:
            return ConnectionTestResult(True, probe())
        except AuthenticationError as exc:
            return ConnectionTestResult(False, f"{self.label} refused the token: {exc}")
        except (ConnectorError, SecretStoreUnavailableError) as exc:
            return ConnectionTestResult(False, f"{self.label} could not be used: {exc}")

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
