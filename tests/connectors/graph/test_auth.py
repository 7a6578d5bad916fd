"""Signing in with msal against the fake identity platform; no host but loopback is ever contacted."""

from __future__ import annotations

import json

import pytest

from connectors.errors import EgressDeniedError
from connectors.graph.auth import SignInRequiredError
from tests.connectors.graph.fake_graph import USER
from tests.connectors.graph.helpers import CACHE_NAME, GraphHarness


def test_device_code_sign_in_caches_tokens_in_the_secret_store(graph: GraphHarness) -> None:
    auth = graph.auth()
    who = auth.sign_in_device_code(graph.codes.append)
    assert who == USER
    (code,) = graph.codes
    assert code.user_code == "ABCD-EFGH"
    assert "devicelogin" in code.verification_uri
    cache = json.loads(graph.secrets.values[CACHE_NAME])
    assert cache["RefreshToken"] and cache["AccessToken"]
    assert graph.fake.grants == ["urn:ietf:params:oauth:grant-type:device_code"]

    # The app starts again: the keyring's cache is enough, nobody signs in.
    again = graph.auth()
    assert again.account_name() == USER
    assert again.token() in graph.fake.access_tokens
    assert graph.fake.grants == ["urn:ietf:params:oauth:grant-type:device_code"]


def test_only_the_configured_loopback_host_is_contacted(graph: GraphHarness) -> None:
    auth = graph.signed_in()
    graph.client(auth).get_json("/me/mailFolders")
    assert graph.events
    assert {e.host for e in graph.events} == {"127.0.0.1"}
    assert all(e.allowed for e in graph.events)
    purposes = {e.purpose for e in graph.events}
    assert purposes == {"microsoft-sign-in", "microsoft-graph"}
    # msal fetched the tenant's OpenID configuration from the configured authority, not from Microsoft.
    assert any(e.path.endswith("/v2.0/.well-known/openid-configuration") for e in graph.events)


def test_msal_cannot_reach_any_host_off_the_allow_list(graph: GraphHarness) -> None:
    graph.allowed_hosts = ("graph.microsoft.com",)
    with pytest.raises(EgressDeniedError, match=r"127\.0\.0\.1"):
        graph.auth().sign_in_device_code(graph.codes.append)
    assert graph.fake.requests == []
    assert [e.allowed for e in graph.events] == [False]


def test_a_token_is_needed_before_anything_happens(graph: GraphHarness) -> None:
    with pytest.raises(SignInRequiredError, match="nobody is signed in"):
        graph.auth().token()


def test_a_revoked_refresh_token_asks_for_a_new_sign_in(graph: GraphHarness) -> None:
    auth = graph.signed_in()
    graph.fake.refresh_tokens.clear()
    with pytest.raises(SignInRequiredError, match="sign in again"):
        auth.token(force_refresh=True)


def test_sign_out_forgets_the_tokens(graph: GraphHarness) -> None:
    auth = graph.signed_in()
    auth.sign_out()
    assert CACHE_NAME not in graph.secrets.values
    with pytest.raises(SignInRequiredError):
        graph.auth().token()
