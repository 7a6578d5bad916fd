"""``inbox-triage crm connect|status|test|disconnect`` against the loopback HubSpot and webhook fakes;
``run --once`` on a demo profile then logs exactly one note per email in the remote CRM."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.wiring import create_demo_profile
from tests.cli.test_providers_cli import Cli
from tests.support.memory_keyring import MemoryKeyring
from tests.support_http.hubspot import HubSpotServer
from tests.support_http.webhook import WebhookServer


@pytest.fixture
def hubspot() -> Iterator[HubSpotServer]:
    with HubSpotServer() as server:
        yield server


@pytest.fixture
def cli(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
) -> Cli:
    """A demo profile (not yet triaged) with a keyring."""
    create_demo_profile(tmp_path / "demo")
    return Cli(tmp_path / "demo", capsys, monkeypatch)


def connect_hubspot(cli: Cli, server: HubSpotServer, token: str = "pat-na1-test") -> tuple[int, str, str]:
    return cli("crm", "connect", "hubspot", "--base-url", server.url, "--token-stdin", stdin=token + "\n")


def test_status_test_and_disconnect(cli: Cli, hubspot: HubSpotServer, memory_keyring: MemoryKeyring) -> None:
    assert cli.json("crm", "status")["connected"] is False
    code, out, _ = cli("crm", "test")
    assert code == 1
    code, out, err = connect_hubspot(cli, hubspot)
    assert code == 0, err
    assert "Connected HubSpot 'hubspot'" in out and "API token stored in the keyring" in out
    assert memory_keyring.passwords[("inbox-triage", "crm:hubspot")] == "pat-na1-test"
    status = cli.json("crm", "status")
    assert status == {
        "connected": True,
        "kind": "hubspot",
        "name": "hubspot",
        "base_url": hubspot.url,
        "host": "127.0.0.1",
        "timeout_s": 30.0,
        "token_in_query": False,
        "has_secret": True,
    }
    code, out, err = cli("crm", "test")
    assert code == 0, out + err
    assert out.startswith("OK: ")
    [call] = cli.audit("egress.call")
    assert (call["destination"], call["outcome"], call["detail"]["purpose"]) == (
        "127.0.0.1",
        "2xx",
        "crm:hubspot",
    )

    code, out, err = cli("crm", "disconnect")
    assert code == 0 and "Disconnected HubSpot 'hubspot'" in out
    assert ("inbox-triage", "crm:hubspot") not in memory_keyring.passwords
    assert cli.json("crm", "status")["connected"] is False
    # The built-in contacts' commands are unchanged.
    assert cli.json("crm", "contacts") == []


def test_a_wrong_token_fails_the_test(cli: Cli, hubspot: HubSpotServer) -> None:
    assert connect_hubspot(cli, hubspot, token="pat-wrong")[0] == 0
    code, out, _ = cli("crm", "test", "--json")
    assert code == 1
    assert '"ok": false' in out and "refused the token" in out and "HTTP 401" in out


def test_without_a_keyring_nothing_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_keyring: object
) -> None:
    cli = Cli(tmp_path / "p", capsys, monkeypatch)
    with WebhookServer() as server:
        code, out, err = cli(
            "crm", "connect", "webhook", "--url", f"{server.url}/hook", "--secret-stdin", stdin="s\n"
        )
    assert code == 1 and out == ""
    assert err.startswith("error: No secure keyring is available")
    assert cli.json("crm", "status")["connected"] is False


def test_bad_settings_are_refused(cli: Cli) -> None:
    code, _, err = cli("crm", "connect", "webhook", "--url", "hooks.example.com/x")
    assert code == 1 and "webhook URL must start with https://" in err
    code, _, err = cli("crm", "connect", "pipedrive", "--timeout", "0")
    assert code == 1 and "timeout must be between 1 and 300" in err
    assert cli.json("crm", "status")["connected"] is False


def test_run_once_logs_one_note_per_email_in_hubspot(cli: Cli, hubspot: HubSpotServer) -> None:
    assert connect_hubspot(cli, hubspot)[0] == 0
    summary = cli.json("run", "--once")
    assert summary["states"].get("failed", 0) == 0
    remote = cli.audit("crm.remote_logged")
    runs = {e["run_id"] for e in remote}
    assert len(remote) == len(runs) >= 40
    assert all(e["destination"] == "127.0.0.1" and e["actor"] == "provider:hubspot" for e in remote)
    markers = [re.search(r"inboxtriage[0-9a-f]{32}", n["hs_note_body"]) for n in hubspot.notes.values()]
    assert all(markers)
    assert len(hubspot.notes) == len({m.group() for m in markers if m}) == len(runs)
    logged = [e for e in cli.audit("crm.logged") if e["outcome"] == "ok"]
    assert {e["run_id"] for e in logged} == runs
    # A second pass changes nothing remotely.
    cli.json("run", "--once")
    assert len(hubspot.notes) == len(runs)
    calls = cli.audit("egress.call")
    assert calls and {c["detail"]["purpose"] for c in calls} == {"crm:hubspot"}


def test_a_webhook_receives_signed_events(cli: Cli) -> None:
    with WebhookServer() as server:
        code, out, err = cli(
            "crm", "connect", "webhook", "--name", "zap", "--url", f"{server.url}/hook", "--secret-stdin",
            stdin="whsec-test\n",
        )  # fmt: skip
        assert code == 0, err
        assert "signing secret stored in the keyring" in out
        code, out, err = cli("crm", "test")
        assert code == 0, out + err
        assert len(server.accepted) == 1
