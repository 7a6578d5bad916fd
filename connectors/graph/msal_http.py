"""msal's HTTP calls through our egress-checked httpx client (msal never opens its own).

msal accepts any object with ``get``/``post`` returning responses that have ``status_code``,
``text``, ``headers`` and ``raise_for_status()``; an httpx response has all four. Handing msal a
client from :class:`~connectors.http.HttpClientFactory` means every sign-in and token refresh
is checked against the allow-list and reported to the egress observer like any other call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from connectors.errors import ConnectionFailedError, ConnectorTimeoutError, EgressDeniedError, TlsError

SERVICE = "Microsoft sign-in"


class MsalHttpClient:
    """The ``http_client`` given to ``msal.PublicClientApplication``."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> httpx.Response:
        """HTTP GET (msal's signature; extra keyword arguments such as ``timeout`` are ignored)."""
        return self._send("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> httpx.Response:
        """HTTP POST: a dict is form-encoded, a string or bytes is sent as it is."""
        if isinstance(data, str | bytes):
            return self._send("POST", url, params=params, headers=headers, content=data)
        return self._send("POST", url, params=params, headers=headers, data=data)

    def close(self) -> None:
        """Close the underlying client."""
        self._client.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        params = kwargs.pop("params", None)
        headers = kwargs.pop("headers", None)
        try:
            return self._client.request(method, url, params=params, headers=headers, **kwargs)
        except EgressDeniedError:
            raise
        except httpx.TimeoutException as exc:
            raise ConnectorTimeoutError(f"{SERVICE}: no answer in time") from exc
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                raise TlsError(f"{SERVICE}: the server's certificate could not be verified ({text})") from exc
            raise ConnectionFailedError(
                f"{SERVICE}: could not connect ({text or type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailedError(f"{SERVICE}: {type(exc).__name__}: {exc}") from exc
