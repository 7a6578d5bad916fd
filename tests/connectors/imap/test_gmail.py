"""Gmail-style login: the XOAUTH2 string, Google's installed-app sign-in, and XOAUTH2 against Dovecot.

Dovecot checks each access token with the fake Google's introspection endpoint (its ``oauth2``
passdb), so these logins are verified by a real IMAP server, not by the code under test.
"""

from __future__ import annotations

import json
import ssl
import threading

import httpx
import pytest

from connectors.gmail import GoogleOAuth, GoogleOAuthClient, GoogleSignInRequiredError
from connectors.http import EgressEvent, EgressPolicy, HttpClientFactory
from connectors.imap.client import open_client
from connectors.imap.endpoint import Endpoint
from connectors.imap.errors import ImapLoginError
from connectors.imap.login import OAuth2Login
from connectors.imap.session import ImapSession
from connectors.imap.source import ImapSource
from tests.connectors.graph.helpers import DictSecrets
from tests.connectors.imap.google import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from tests.connectors.imap.helpers import message
from tests.servers.dovecot import DovecotMailbox

TOKEN_NAME = "account:gmail:oauth"
SECRET_NAME = "account:gmail:oauth-client-secret"

pytestmark = pytest.mark.server  # a second Dovecot with an oauth2 passdb


class Google:
    """GoogleOAuth pointed at the fake, egress limited to loopback and recorded."""

    def __init__(self, fake: FakeGoogle, ca_file: str) -> None:
        self.fake = fake
        self.ca_file = ca_file
        self.secrets = DictSecrets()
        self.secrets.set(SECRET_NAME, CLIENT_SECRET)
        self.events: list[EgressEvent] = []
        self.oauth = GoogleOAuth(
            GoogleOAuthClient(
                CLIENT_ID, auth_uri=f"{fake.origin}/o/oauth2/v2/auth", token_uri=f"{fake.origin}/token"
            ),
            secrets=self.secrets,
            token_name=TOKEN_NAME,
            client_secret_name=SECRET_NAME,
            http=HttpClientFactory(EgressPolicy(["127.0.0.1"]), self.events.append),
            verify=ca_file,
        )

    def signed_in_earlier(self, user: str) -> None:
        """A refresh token in the keyring, as after a sign-in on an earlier day."""
        refresh = self.fake.grant_refresh_token(user)
        self.secrets.set(
            TOKEN_NAME, json.dumps({"refresh_token": refresh, "access_token": "", "expires_at": 0})
        )


@pytest.fixture
def google(fake_google: FakeGoogle, oauth_dovecot: DovecotMailbox) -> Google:
    return Google(fake_google, str(oauth_dovecot.ca_file))


def _endpoint(mailbox: DovecotMailbox) -> Endpoint:
    return Endpoint(mailbox.host, mailbox.imaps_port, "tls", ca_file=str(mailbox.ca_file), timeout_s=10)


def test_browser_sign_in_with_pkce_then_xoauth2_imap(google: Google, oauth_dovecot: DovecotMailbox) -> None:
    visited: list[str] = []

    def browser(url: str) -> None:
        """The person's browser: follows Google's consent redirect back to the loopback listener."""
        visited.append(url)

        def visit() -> None:
            with httpx.Client(
                verify=ssl.create_default_context(cafile=google.ca_file), follow_redirects=True
            ) as client:
                client.get(url)

        threading.Thread(target=visit, daemon=True).start()

    google.oauth.sign_in_browser(open_browser=browser, timeout_s=10)
    assert "code_challenge_method=S256" in visited[0]
    assert "access_type=offline" in visited[0]
    stored = json.loads(google.secrets.values[TOKEN_NAME])
    assert stored["refresh_token"].startswith("1//")
    assert google.fake.grants[-1] == "authorization_code"
    assert {e.host for e in google.events} == {"127.0.0.1"}

    oauth_dovecot.append(oauth_dovecot.user, "INBOX", message(1))
    session = ImapSession(
        _endpoint(oauth_dovecot), OAuth2Login(oauth_dovecot.user, google.oauth.token), account="gmail"
    )
    try:
        fetched = [m.raw for b in ImapSource(session).fetch(None) for m in b.messages]
    finally:
        session.close()
    assert fetched == [message(1)]
    assert "method=XOAUTH2" in oauth_dovecot.log_text()


def test_an_expired_access_token_is_refreshed_before_login(
    google: Google, oauth_dovecot: DovecotMailbox
) -> None:
    google.signed_in_earlier(oauth_dovecot.user)
    client = open_client(_endpoint(oauth_dovecot), OAuth2Login(oauth_dovecot.user, google.oauth.token))
    client.logout()
    assert google.oauth.refreshes == 1
    assert google.fake.grants[-1] == "refresh_token"
    # The fresh token is reused for the next login (no second refresh).
    open_client(_endpoint(oauth_dovecot), OAuth2Login(oauth_dovecot.user, google.oauth.token)).logout()
    assert google.oauth.refreshes == 1


def test_a_token_the_server_refuses_is_refreshed_once(google: Google, oauth_dovecot: DovecotMailbox) -> None:
    google.signed_in_earlier(oauth_dovecot.user)
    google.oauth.token()
    google.fake.revoke_access_tokens()  # still unexpired locally, but no longer valid at the server
    open_client(_endpoint(oauth_dovecot), OAuth2Login(oauth_dovecot.user, google.oauth.token)).logout()
    assert google.oauth.refreshes == 2


def test_a_revoked_sign_in_is_a_clear_permanent_error(google: Google, oauth_dovecot: DovecotMailbox) -> None:
    google.signed_in_earlier(oauth_dovecot.user)
    google.fake.revoke_refresh_tokens()
    with pytest.raises(GoogleSignInRequiredError, match="sign in again"):
        open_client(_endpoint(oauth_dovecot), OAuth2Login(oauth_dovecot.user, google.oauth.token))


def test_a_token_for_someone_else_is_refused_by_dovecot(
    google: Google, oauth_dovecot: DovecotMailbox
) -> None:
    other = oauth_dovecot.add_user()
    google.signed_in_earlier(other.name)
    with pytest.raises(ImapLoginError):
        open_client(_endpoint(oauth_dovecot), OAuth2Login(oauth_dovecot.user, google.oauth.token))


def test_nobody_signed_in(google: Google) -> None:
    with pytest.raises(GoogleSignInRequiredError, match="nobody is signed in"):
        google.oauth.token()
