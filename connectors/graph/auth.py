"""Signing in to Microsoft 365 as a desktop app: msal's public client, tokens cached in the keyring.

The office registers the app once in Entra ID (a "public client", no secret) and enters its client
id. Staff sign in with the device-code flow ("open microsoft.com/devicelogin and enter ABCD-EFGH";
works everywhere, including over remote desktop) or, where a browser can be opened, the system
browser with a loopback redirect (msal's ``acquire_token_interactive``). msal's token cache holds
the refresh token; it is serialised into the OS keyring after every change and read back when
the app starts, so staff sign in once.

All of msal's HTTP goes through :class:`~connectors.graph.msal_http.MsalHttpClient`, i.e. the
egress-checked client factory. msal's instance discovery (a request to
``login.microsoftonline.com`` asking whether an authority is genuine) is turned off: the authority
is configured by the office, and this keeps a test or sovereign-cloud authority from ever causing a
call to another host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msal

from connectors.errors import AuthenticationError, ConnectorError, ConnectorTransientError
from connectors.graph.client import tls_verify
from connectors.graph.msal_http import MsalHttpClient
from connectors.http import HttpClientFactory
from engine.errors import SecretStoreUnavailableError
from engine.ports import SecretStore

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_TENANT = "organizations"
#: What the app asks for: read and flag/move mail, send mail (offline_access etc. are added by msal).
GRAPH_SCOPES = ("https://graph.microsoft.com/Mail.ReadWrite", "https://graph.microsoft.com/Mail.Send")
#: Seconds a device code stays usable if the server does not say.
DEVICE_CODE_TIMEOUT_S = 900


class SignInRequiredError(AuthenticationError):
    """No usable sign-in: nobody signed in yet, or the refresh token was revoked or expired."""


class SignInFailedError(AuthenticationError):
    """The sign-in was refused, cancelled or timed out."""


@dataclass(frozen=True)
class DeviceCode:
    """What to show a person during the device-code flow."""

    user_code: str
    verification_uri: str
    message: str
    expires_in: int


class GraphAuth:
    """Access tokens for one Microsoft 365 mailbox (thread-safe)."""

    def __init__(
        self,
        *,
        client_id: str,
        secrets: SecretStore,
        cache_name: str,
        http: HttpClientFactory,
        tenant: str = DEFAULT_TENANT,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        scopes: Sequence[str] = GRAPH_SCOPES,
        login_hint: str = "",
        verify: bool | str = True,
    ) -> None:
        self.client_id = client_id
        self.authority = authority_host.rstrip("/") + "/" + tenant
        self.scopes = list(scopes)
        self.login_hint = login_hint
        self._secrets = secrets
        self._cache_name = cache_name
        self._http = http
        self._verify = verify
        self._lock = threading.RLock()
        self._app: Any = None
        self._cache: Any = None
        self._http_client: MsalHttpClient | None = None

    # --- signing in ------------------------------------------------------------------------------

    def sign_in_device_code(
        self, show: Callable[[DeviceCode], None], *, cancel: threading.Event | None = None
    ) -> str:
        """Run the device-code flow: ``show`` the code, wait until the person signed in; return who."""
        with self._lock:
            app = self._application()
            flow = self._call(lambda: app.initiate_device_flow(scopes=self.scopes))
            if "user_code" not in flow:
                raise SignInFailedError(f"Microsoft refused to start the sign-in: {_describe(flow)}")
            show(
                DeviceCode(
                    user_code=str(flow["user_code"]),
                    verification_uri=str(flow.get("verification_uri", "")),
                    message=str(flow.get("message", "")),
                    expires_in=int(flow.get("expires_in", DEVICE_CODE_TIMEOUT_S)),
                )
            )

            def stop(current: dict[str, Any]) -> bool:
                return (cancel is not None and cancel.is_set()) or current.get("expires_at", 0) < time.time()

            result = self._call(lambda: app.acquire_token_by_device_flow(flow, exit_condition=stop))
            return self._signed_in(result)

    def sign_in_browser(self, *, timeout_s: int = 300) -> str:
        """Sign in in the system browser (loopback redirect); return who signed in."""
        with self._lock:
            app = self._application()
            result = self._call(
                lambda: app.acquire_token_interactive(
                    self.scopes,
                    login_hint=self.login_hint or None,
                    timeout=timeout_s,
                    prompt="select_account",
                )
            )
            return self._signed_in(result)

    def sign_out(self) -> None:
        """Forget every account and the cached tokens."""
        with self._lock:
            self._secrets.delete(self._cache_name)
            self._cache = None
            self._app = None

    # --- tokens ------------------------------------------------------------------------------------

    def account_name(self) -> str | None:
        """The signed-in user's name (as Microsoft reports it), or None."""
        with self._lock:
            accounts = self._application().get_accounts()
            return str(accounts[0].get("username")) if accounts else None

    def token(self, force_refresh: bool = False) -> str:
        """A valid access token: from the cache, or refreshed with the refresh token."""
        with self._lock:
            app = self._application()
            accounts = app.get_accounts(username=self.login_hint or None) or app.get_accounts()
            if not accounts:
                raise SignInRequiredError(
                    "Microsoft 365: nobody is signed in; sign in from Settings "
                    "or with 'inbox-triage accounts sign-in'"
                )
            result = self._call(
                lambda: app.acquire_token_silent_with_error(
                    self.scopes, account=accounts[0], force_refresh=force_refresh
                )
            )
            self._save_cache()
            if not result or "access_token" not in result:
                raise SignInRequiredError(
                    "Microsoft 365: the sign-in has expired or was revoked; sign in again "
                    f"({_describe(result) if result else 'no refresh token'})"
                )
            return str(result["access_token"])

    def close(self) -> None:
        """Close msal's HTTP client (the next call opens a new one)."""
        with self._lock:
            if self._http_client is not None:
                self._http_client.close()
            self._http_client = None
            self._app = None

    # --- internals -------------------------------------------------------------------------------

    def _application(self) -> Any:
        if self._app is None:
            cache = msal.SerializableTokenCache()
            try:
                stored = self._secrets.get(self._cache_name)
            except SecretStoreUnavailableError as exc:
                raise SignInRequiredError(f"Microsoft 365: {exc}") from exc
            if stored:
                cache.deserialize(stored)
            if self._http_client is None:
                self._http_client = MsalHttpClient(
                    self._http.client(purpose="microsoft-sign-in", verify=tls_verify(self._verify))
                )
            self._app = self._call(
                lambda: msal.PublicClientApplication(
                    self.client_id,
                    authority=self.authority,
                    token_cache=cache,
                    http_client=self._http_client,
                    instance_discovery=False,
                )
            )
            self._cache = cache
        return self._app

    def _call(self, action: Callable[[], Any]) -> Any:
        """Run an msal call, translating its exceptions (ValueError for a bad authority, HTTP errors)."""
        try:
            return action()
        except ConnectorError:
            raise
        except ValueError as exc:
            raise SignInFailedError(f"Microsoft sign-in: {exc}") from exc
        except Exception as exc:
            raise ConnectorTransientError(f"Microsoft sign-in failed: {type(exc).__name__}: {exc}") from exc

    def _signed_in(self, result: Any) -> str:
        self._save_cache()
        if not isinstance(result, dict) or "access_token" not in result:
            raise SignInFailedError(f"Microsoft sign-in did not complete: {_describe(result)}")
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("name") or "signed in")

    def _save_cache(self) -> None:
        if self._cache is not None and self._cache.has_state_changed:
            self._secrets.set(self._cache_name, self._cache.serialize())
            self._cache.has_state_changed = False


def _describe(result: Any) -> str:
    if not isinstance(result, dict):
        return str(result)
    error = result.get("error", "unknown error")
    description = str(result.get("error_description", "")).splitlines()
    return f"{error}: {description[0]}" if description else str(error)
