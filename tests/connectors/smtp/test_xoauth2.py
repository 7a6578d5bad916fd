"""SMTP AUTH XOAUTH2 (Gmail's way) against aiosmtpd checking tokens with the fake Google."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from connectors.gmail import GoogleOAuth, GoogleOAuthClient
from connectors.http import EgressPolicy, HttpClientFactory
from connectors.imap.endpoint import Endpoint
from connectors.imap.login import OAuth2Login
from connectors.imap.sent import SentFolder
from connectors.smtp import SmtpSender
from tests.connectors.graph.helpers import DictSecrets
from tests.connectors.imap.google import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from tests.connectors.imap.helpers import ImapHarness
from tests.connectors.smtp.helpers import reply_to
from tests.servers.smtp import RecordingHandler, SmtpServer
from tests.support.certs import CertificateBundle

USER = "office@print.example"


class XOAuth2Handler(RecordingHandler):
    """Accepts AUTH XOAUTH2 when the bearer token is one the fake Google issued for USER."""

    def __init__(self, google: FakeGoogle) -> None:
        super().__init__(users={USER: "unused"})
        self.google = google
        self.attempts: list[str] = []

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        decoded = base64.b64decode(args[1]).decode()
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        self.attempts.append(token)
        with self.google.lock:
            ok = fields.get("user") == USER and self.google.access_tokens.get(token) == USER
        if ok:
            return AuthResult(success=True, auth_data=LoginPassword(USER.encode(), b""))
        error = base64.b64encode(json.dumps({"status": "401", "schemes": "Bearer"}).encode()).decode()
        await server.challenge_auth(error, encode_to_b64=False)  # the client's empty line ends it
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )


@pytest.fixture
def xoauth2_smtp(tls_certificates: CertificateBundle, fake_google: FakeGoogle) -> Any:
    server = SmtpServer("tls", certificates=tls_certificates, users={USER: "unused"})
    server.handler = XOAuth2Handler(fake_google)
    server.start()
    yield server
    server.stop()


def test_smtp_xoauth2_refreshes_a_refused_token_once(
    xoauth2_smtp: SmtpServer, fake_google: FakeGoogle, imap: ImapHarness
) -> None:
    secrets = DictSecrets()
    secrets.set("client-secret", CLIENT_SECRET)
    refresh = fake_google.grant_refresh_token(USER)
    secrets.set("tokens", json.dumps({"refresh_token": refresh, "access_token": "stale", "expires_at": 4e9}))
    oauth = GoogleOAuth(
        GoogleOAuthClient(CLIENT_ID, token_uri=f"{fake_google.origin}/token"),
        secrets=secrets,
        token_name="tokens",
        client_secret_name="client-secret",
        http=HttpClientFactory(EgressPolicy(["127.0.0.1"])),
        verify=str(xoauth2_smtp.ca_file),
    )
    endpoint = Endpoint(
        xoauth2_smtp.host, xoauth2_smtp.port, "tls", ca_file=str(xoauth2_smtp.ca_file), timeout_s=10
    )
    sender = SmtpSender(
        endpoint, OAuth2Login(USER, oauth.token), SentFolder(imap.session(account="sent")), sent_copy="server"
    )
    reply = reply_to(1)
    sender.send(reply)
    (received,) = xoauth2_smtp.wait_for(1)
    assert received.data == reply.mime
    handler = xoauth2_smtp.handler
    assert isinstance(handler, XOAuth2Handler)
    assert handler.attempts[0] == "stale"  # refused...
    assert handler.attempts[1].startswith("ya29.")  # ...then one refreshed token, accepted
    assert oauth.refreshes == 1
