"""A fake Google sign-in (HTTPS, loopback) and a Dovecot that accepts its tokens over XOAUTH2.

The fake implements the installed-app flow Google documents: ``GET /o/oauth2/v2/auth`` answers
the "browser" with a redirect to the loopback ``redirect_uri`` carrying ``code`` and ``state``
(after checking client id, scope and the S256 PKCE challenge), and ``POST /token`` exchanges a
code (checking the verifier) or a refresh token for tokens. A plain-HTTP token introspection
endpoint (RFC 7662) lets Dovecot's ``oauth2`` passdb validate access tokens, so XOAUTH2 logins
are checked by a real IMAP server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.servers.dovecot import DovecotMailbox, DovecotServer
from tests.support.binaries import requires_binary
from tests.support.certs import CertificateBundle
from tests.support.ports import LOOPBACK

CLIENT_ID = "1234-office.apps.googleusercontent.com"
CLIENT_SECRET = "desktop-client-secret"


@dataclass
class _Code:
    challenge: str
    redirect_uri: str
    user: str


class FakeGoogle:
    """Tokens for users of the OAuth Dovecot; switches to revoke them."""

    def __init__(self, certificates: CertificateBundle) -> None:
        self.lock = threading.Lock()
        self.user = ""
        self.codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, str] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.grants: list[str] = []
        self.https = ThreadingHTTPServer((LOOPBACK, 0), _GoogleHandler)
        self.https.socket = certificates.server_context().wrap_socket(self.https.socket, server_side=True)
        self.introspection = ThreadingHTTPServer((LOOPBACK, 0), _IntrospectionHandler)
        for server in (self.https, self.introspection):
            server.daemon_threads = True
            server.fake = self  # type: ignore[attr-defined]
        self._threads = [
            threading.Thread(target=s.serve_forever, args=(0.02,), daemon=True)
            for s in (self.https, self.introspection)
        ]

    @property
    def origin(self) -> str:
        return f"https://{LOOPBACK}:{self.https.server_address[1]}"

    @property
    def introspection_url(self) -> str:
        return f"http://{LOOPBACK}:{self.introspection.server_address[1]}/introspect"

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for server in (self.https, self.introspection):
            server.shutdown()
            server.server_close()

    def grant_refresh_token(self, user: str) -> str:
        """A refresh token for ``user``, as if they had signed in earlier."""
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.refresh_tokens[token] = user
        return token

    def revoke_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def issue(self, user: str, *, refresh: bool) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[access] = user
        tokens: dict[str, Any] = {
            "access_token": access,
            "expires_in": 3599,
            "scope": "https://mail.google.com/",
            "token_type": "Bearer",
        }
        if refresh:
            refresh_token = "1//" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = user
            tokens["refresh_token"] = refresh_token
        return tokens


class _GoogleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        fake: FakeGoogle = self.server.fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        redirect = query.get("redirect_uri", "")
        good = (
            url.path == "/o/oauth2/v2/auth"
            and query.get("client_id") == CLIENT_ID
            and query.get("scope") == "https://mail.google.com/"
            and query.get("response_type") == "code"
            and query.get("code_challenge_method") == "S256"
            and query.get("access_type") == "offline"
            and redirect.startswith(f"http://{LOOPBACK}:")
        )
        if not good:
            self._json(400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(12)
        with fake.lock:
            fake.codes[code] = _Code(query["code_challenge"], redirect, fake.user)
        self.send_response(302)
        self.send_header(
            "Location", f"{redirect}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        )
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        fake: FakeGoogle = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            self._json(401, {"error": "invalid_client"})
            return
        grant = form.get("grant_type", "")
        with fake.lock:
            fake.grants.append(grant)
            if grant == "authorization_code":
                code = fake.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                digest = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                )
                if code is None or digest != code.challenge or form.get("redirect_uri") != code.redirect_uri:
                    self._json(400, {"error": "invalid_grant", "error_description": "Bad code or verifier."})
                    return
                self._json(200, fake.issue(code.user, refresh=True))
                return
            if grant == "refresh_token":
                user = fake.refresh_tokens.get(form.get("refresh_token", ""))
                if user is None:
                    self._json(
                        400,
                        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                    )
                    return
                self._json(200, fake.issue(user, refresh=False))
                return
        self._json(400, {"error": "unsupported_grant_type"})


class _IntrospectionHandler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        fake: FakeGoogle = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        token = parse_qs(self.rfile.read(length).decode()).get("token", [""])[-1]
        with fake.lock:
            user = fake.access_tokens.get(token)
        body = json.dumps({"active": True, "username": user} if user else {"active": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class OAuthDovecotServer(DovecotServer):
    """The test Dovecot plus an ``oauth2`` passdb (XOAUTH2, OAUTHBEARER) asking the fake to introspect."""

    def __init__(
        self, binary: str, base_dir: Path, certificates: CertificateBundle, introspection_url: str
    ) -> None:
        self.introspection_url = introspection_url
        super().__init__(binary, base_dir, certificates)

    def _write_config(self) -> None:
        super()._write_config()
        settings = self.base_dir / "oauth2.conf.ext"
        settings.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {self.introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
        )
        settings.chmod(0o644)
        config = self._config_file.read_text()
        config = config.replace(
            "auth_mechanisms = plain login", "auth_mechanisms = plain login xoauth2 oauthbearer"
        )
        config += (
            f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {settings}\n}}\n"
        )
        self._config_file.write_text(config)


@pytest.fixture(scope="session")
def fake_google(tls_certificates: CertificateBundle) -> Iterator[FakeGoogle]:
    """The fake Google sign-in for the session."""
    fake = FakeGoogle(tls_certificates)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def oauth_dovecot_server(
    tls_certificates: CertificateBundle, fake_google: FakeGoogle
) -> Iterator[DovecotServer]:
    """A second Dovecot that also accepts the fake Google's access tokens."""
    binary = requires_binary("dovecot", "dovecot-imapd", search_globs=("/usr/sbin",))
    base_dir = Path(tempfile.mkdtemp(prefix="inbox-triage-dovecot-oauth-"))
    server = OAuthDovecotServer(binary, base_dir, tls_certificates, fake_google.introspection_url)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def oauth_dovecot(oauth_dovecot_server: DovecotServer, fake_google: FakeGoogle) -> DovecotMailbox:
    """A fresh user on the OAuth Dovecot; the fake Google signs that user in."""
    user = oauth_dovecot_server.add_user()
    fake_google.user = user.name
    return DovecotMailbox(oauth_dovecot_server, user.name, user.password)
