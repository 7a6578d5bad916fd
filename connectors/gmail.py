"""Gmail and Google Workspace: IMAP and SMTP with XOAUTH2 (the office's own OAuth client) or an app password.

Gmail is an IMAP account plus an SMTP account with the presets below. Two ways to log in:

* an **app password** (Google account → Security → App passwords), stored in the keyring and used
  like any password;
* **OAuth 2.0** with the office's own OAuth client (Google Cloud console → "Desktop app" client;
  its id, and the client secret Google issues for desktop apps, which is not confidential but is
  still kept in the keyring). :class:`GoogleOAuth` runs the installed-app flow: the system browser
  opens Google's consent page, Google redirects to a one-off listener on 127.0.0.1 with a code,
  and the code (with its PKCE verifier) is exchanged for tokens. The refresh token is kept in the
  keyring; :meth:`GoogleOAuth.token` refreshes the access token when it expires or when the server
  refused it, and IMAP/SMTP send it as XOAUTH2 (:func:`connectors.imap.login.xoauth2_string`).

Every call to Google goes through the egress-checked client factory. Gmail files sent mail in
"[Gmail]/Sent Mail" by itself, so the SMTP preset searches that folder and appends nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connectors.errors import AuthenticationError, ConnectorPermanentError, MalformedResponseError
from connectors.graph.client import tls_verify
from connectors.http import HttpClientFactory, request
from engine.errors import SecretStoreUnavailableError
from engine.ports import SecretStore

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
#: The scope Google requires for IMAP, POP and SMTP access.
GMAIL_SCOPE = "https://mail.google.com/"

GMAIL_IMAP_HOST = "imap.gmail.com"
GMAIL_IMAP_PORT = 993
GMAIL_SMTP_HOST = "smtp.gmail.com"
GMAIL_SMTP_PORT = 465
#: Where Gmail (English interface) files sent mail; it does so itself for SMTP submissions.
GMAIL_SENT_FOLDER = "[Gmail]/Sent Mail"
#: Refresh an access token this many seconds before it expires.
EXPIRY_MARGIN_S = 60.0
SERVICE = "Google sign-in"


class GoogleSignInRequiredError(AuthenticationError):
    """Nobody signed in yet, or Google refused the refresh token (revoked, expired, wrong client)."""


@dataclass(frozen=True)
class GooglePreset:
    """Server settings for Gmail and Google Workspace."""

    imap_host: str = GMAIL_IMAP_HOST
    imap_port: int = GMAIL_IMAP_PORT
    smtp_host: str = GMAIL_SMTP_HOST
    smtp_port: int = GMAIL_SMTP_PORT
    sent_folder: str = GMAIL_SENT_FOLDER
    sent_copy: str = "server"


GMAIL = GooglePreset()


@dataclass(frozen=True)
class GoogleOAuthClient:
    """The office's OAuth client and Google's endpoints (overridable for tests)."""

    client_id: str
    auth_uri: str = GOOGLE_AUTH_URI
    token_uri: str = GOOGLE_TOKEN_URI
    scope: str = GMAIL_SCOPE


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
    )
    return verifier, challenge


class GoogleOAuth:
    """Access tokens for one Google account, refreshed from the keyring's refresh token."""

    def __init__(
        self,
        client: GoogleOAuthClient,
        *,
        secrets: SecretStore,
        token_name: str,
        client_secret_name: str,
        http: HttpClientFactory,
        verify: bool | str = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._secrets = secrets
        self._token_name = token_name
        self._client_secret_name = client_secret_name
        self._http = http
        self._verify = verify
        self._clock = clock
        self._lock = threading.Lock()
        self.refreshes = 0

    # --- signing in --------------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str, challenge: str, login_hint: str = "") -> str:
        """Google's consent page for this client, asking for a refresh token (offline access)."""
        params = {
            "client_id": self.client.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": self.client.scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",
        }
        if login_hint:
            params["login_hint"] = login_hint
        return f"{self.client.auth_uri}?{urlencode(params)}"

    def sign_in_browser(
        self,
        *,
        open_browser: Callable[[str], object] = webbrowser.open,
        timeout_s: float = 300.0,
        login_hint: str = "",
    ) -> None:
        """Open the consent page and wait for Google's redirect to 127.0.0.1; store the tokens."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        with _RedirectListener(state) as listener:
            redirect_uri = listener.redirect_uri
            open_browser(self.authorization_url(redirect_uri, state, challenge, login_hint))
            code = listener.wait(timeout_s)
        tokens = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )
        if "refresh_token" not in tokens:
            raise GoogleSignInRequiredError(
                f"{SERVICE}: Google did not hand out a refresh token; sign in again"
            )
        self._store(tokens, refresh_token=str(tokens["refresh_token"]))

    def sign_out(self) -> None:
        """Forget the tokens."""
        self._secrets.delete(self._token_name)

    # --- tokens ------------------------------------------------------------------------------------

    def token(self, force_refresh: bool = False) -> str:
        """A valid access token (refreshed when expiring, or when ``force_refresh``)."""
        with self._lock:
            stored = self._load()
            if (
                not force_refresh
                and stored.get("access_token")
                and self._clock() < float(stored.get("expires_at", 0)) - EXPIRY_MARGIN_S
            ):
                return str(stored["access_token"])
            refresh_token = str(stored.get("refresh_token") or "")
            if not refresh_token:
                raise GoogleSignInRequiredError(
                    f"{SERVICE}: nobody is signed in; sign in from Settings "
                    "or with 'inbox-triage accounts sign-in'"
                )
            tokens = self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})
            self.refreshes += 1
            self._store(tokens, refresh_token=str(tokens.get("refresh_token") or refresh_token))
            return str(tokens["access_token"])

    # --- internals ---------------------------------------------------------------------------------

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        body = {"client_id": self.client.client_id, **form}
        client_secret = self._read(self._client_secret_name)
        if client_secret:
            body["client_secret"] = client_secret
        http_client = self._http.client(purpose="google-sign-in", verify=tls_verify(self._verify))
        try:
            response = request(
                http_client,
                "POST",
                self.client.token_uri,
                service=SERVICE,
                content=urlencode(body).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except ConnectorPermanentError as exc:  # 4xx: the grant or the client is not (or no longer) good
            raise GoogleSignInRequiredError(
                f"{SERVICE}: Google refused the token request; sign in again ({exc})"
            ) from exc
        finally:
            http_client.close()
        try:
            tokens = response.json()
        except ValueError as exc:
            raise MalformedResponseError(f"{SERVICE}: the token answer is not JSON") from exc
        if not isinstance(tokens, dict) or "access_token" not in tokens:
            raise MalformedResponseError(f"{SERVICE}: the token answer has no access token")
        return tokens

    def _store(self, tokens: dict[str, Any], *, refresh_token: str) -> None:
        expires_in = float(tokens.get("expires_in", 3600))
        record = {
            "access_token": str(tokens["access_token"]),
            "expires_at": self._clock() + expires_in,
            "refresh_token": refresh_token,
        }
        self._secrets.set(self._token_name, json.dumps(record))

    def _load(self) -> dict[str, Any]:
        raw = self._read(self._token_name)
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _read(self, name: str) -> str | None:
        try:
            return self._secrets.get(name)
        except SecretStoreUnavailableError as exc:
            raise GoogleSignInRequiredError(f"{SERVICE}: {exc}") from exc


class _RedirectListener:
    """A one-request HTTP listener on 127.0.0.1 (a free port) that receives Google's redirect."""

    def __init__(self, state: str) -> None:
        self._state = state
        self.code: str | None = None
        self.error: str | None = None
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if query.get("state") != outer._state:
                    outer.error = "the answer did not match this sign-in (state)"
                elif "error" in query:
                    outer.error = query["error"]
                else:
                    outer.code = query.get("code")
                text = (
                    "Signed in. You can close this window and return to Inbox Triage."
                    if outer.code
                    else f"Sign-in failed: {outer.error}"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self._server = HTTPServer(("127.0.0.1", 0), _Handler)

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/`` (Google allows any loopback port for desktop clients)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def wait(self, timeout_s: float) -> str:
        """Serve requests until the redirect arrives; return the code."""
        deadline = time.monotonic() + timeout_s
        while self.code is None and self.error is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GoogleSignInRequiredError(
                    f"{SERVICE}: no answer from the browser within {timeout_s:.0f} s"
                )
            self._server.timeout = remaining
            self._server.handle_request()
        if self.code is None:
            raise GoogleSignInRequiredError(f"{SERVICE}: {self.error}")
        return self.code

    def __enter__(self) -> _RedirectListener:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.server_close()
