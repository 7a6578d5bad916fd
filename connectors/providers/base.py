"""What every AI provider connector shares: settings, API key, HTTP client, limits, errors.

A subclass says how to build one request and how to read the answer; this base sends it through
the egress-guarded client, under the provider's rate and concurrency limits, pauses the provider
after a 429 (honouring Retry-After), and translates failures into the connectors' exception tree.
No tools or functions are ever sent: the request shapes have no place for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import httpx

from connectors.errors import AuthenticationError, ConnectorError, EgressDeniedError
from connectors.http import ConnectionTestResult, HttpClientFactory, error_for_status, json_object, request
from connectors.ratelimit import RateLimiter
from engine.ai.errors import mark_not_sent
from engine.ai.settings import ProviderSettings
from engine.errors import SecretStoreUnavailableError
from engine.ports import Completion, CompletionRequest, SecretStore

#: How long a provider is paused after a 429 that did not say (seconds).
DEFAULT_RATE_LIMIT_PAUSE_S = 20.0

#: httpx failures that happen before a request is written.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class HttpCall:
    """One request to send: path relative to the base URL, JSON body, extra headers and query."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    params: dict[str, str]


class ProviderBase:
    """An :class:`engine.ports.AiProvider` over HTTP; subclasses implement ``_call`` and ``_read``."""

    kind_label = "AI provider"

    def __init__(
        self,
        settings: ProviderSettings,
        http: HttpClientFactory,
        secrets: SecretStore,
        *,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings.validate()
        self._secrets = secrets
        self._client = http.client(
            purpose=f"ai:{settings.name}",
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout_s,
            max_connections=settings.max_concurrency,
        )
        self.limiter = limiter or RateLimiter(
            settings.requests_per_minute, max_concurrency=settings.max_concurrency, name=self.label
        )

    # --- engine.ports.AiProvider -------------------------------------------------------------

    @property
    def name(self) -> str:
        """The configured provider name."""
        return self.settings.name

    @property
    def destination(self) -> str:
        """Host name of the API."""
        return self.settings.host

    @property
    def redact(self) -> bool:
        """Whether personal data is replaced by placeholders before text goes to this provider."""
        return self.settings.redact

    @property
    def timeout_s(self) -> float:
        """The longest one call to this provider may take."""
        return self.settings.timeout_s

    @property
    def label(self) -> str:
        """How messages name this provider."""
        return f"{self.kind_label} {self.settings.name!r}"

    def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """The model's answer to ``request`` within ``timeout`` seconds (at most the configured timeout)."""
        return self._read(self._send(self._prepare(request), timeout=timeout), request)

    def test_connection(self) -> ConnectionTestResult:
        """Send a tiny request and say in a sentence whether the provider answered."""
        probe = CompletionRequest(
            system="You are a connection check. Answer with the single word OK.",
            user="OK?",
            max_tokens=5,
            purpose="test",
        )
        try:
            completion = self.complete(probe, timeout=self.settings.timeout_s)
        except AuthenticationError as exc:
            return ConnectionTestResult(False, f"{self.label} refused the API key: {exc}")
        except (ConnectorError, SecretStoreUnavailableError) as exc:
            return ConnectionTestResult(False, f"{self.label} could not be used: {exc}")
        return ConnectionTestResult(
            True, f"{self.label} answered with model {completion.model} at {self.destination}."
        )

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- for subclasses ----------------------------------------------------------------------

    def _call(self, request: CompletionRequest, **options: Any) -> HttpCall:
        raise NotImplementedError

    def _read(self, response: httpx.Response, request: CompletionRequest) -> Completion:
        raise NotImplementedError

    def api_key(self) -> str | None:
        """The API key from the keyring; ``None`` when this provider needs none."""
        if not self.settings.needs_api_key:
            return None
        key = self._secrets.get(self.settings.secret_name)
        if not key:
            raise AuthenticationError(
                f"No API key is stored for {self.label}; enter it in Settings → AI providers."
            )
        return key

    def _prepare(self, request: CompletionRequest, **options: Any) -> HttpCall:
        """Build the call; an error here (no API key) means nothing was sent."""
        try:
            return self._call(request, **options)
        except ConnectorError as exc:
            mark_not_sent(exc)
            raise

    def _send(self, call: HttpCall, *, timeout: float, check_status: bool = True) -> httpx.Response:
        """Send one request under the limits; pause the provider on 429/503 with Retry-After.

        Errors raised before the request could leave (limiter, allow-list, no connection) are
        marked with :func:`engine.ai.errors.mark_not_sent`.
        """
        wait = max(0.1, min(timeout, self.settings.timeout_s))
        started = False
        try:
            with self.limiter.slot(max_wait=wait):
                started = True
                response = request(
                    self._client,
                    "POST",
                    call.path,
                    service=self.label,
                    json=call.body,
                    headers=call.headers,
                    params=call.params or None,
                    timeout=wait,
                    check_status=False,
                )
        except ConnectorError as exc:
            if not started or isinstance(exc, EgressDeniedError) or isinstance(exc.__cause__, _NOT_SENT):
                mark_not_sent(exc)
            raise
        error = error_for_status(response, service=self.label)
        if error is not None:
            retry_after = getattr(error, "retry_after", None)
            if response.status_code == 429:
                self.limiter.pause(retry_after if retry_after is not None else DEFAULT_RATE_LIMIT_PAUSE_S)
            elif retry_after is not None:
                self.limiter.pause(retry_after)
            if check_status:
                raise error
        return response

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        return json_object(response, service=self.label)
