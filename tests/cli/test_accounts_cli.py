"""``inbox-triage accounts ...`` end to end: Dovecot, aiosmtpd, the fake Microsoft 365; IDLE push."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from desktop.cli.commands.runs import IdlePush
from desktop.scheduling import PollScheduler
from desktop.wiring import open_service
from engine.service import PollReport
from engine.settings import ScheduleSettings
from tests.cli.helpers import Cli
from tests.connectors.graph.fake_graph import CLIENT_ID, TENANT, FakeMicrosoft, fake_microsoft
from tests.connectors.imap.helpers import message
from tests.servers.dovecot import DovecotMailbox
from tests.servers.smtp import SmtpServer
from tests.support.memory_keyring import MemoryKeyring

__all__ = ["fake_microsoft"]  # fixture


@pytest.fixture
def cli(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
) -> Cli:
    return Cli(tmp_path / "profile", capsys, monkeypatch)


def _add_imap(
    cli: Cli, dovecot: DovecotMailbox, *extra: str, password: str | None = None
) -> tuple[int, str, str]:
    return cli(
        "accounts", "add", "imap", "office",
        "--host", dovecot.host, "--port", str(dovecot.imaps_port), "--user", dovecot.user,
        "--ca-file", str(dovecot.ca_file), "--password-stdin", *extra,
        stdin=(password if password is not None else dovecot.password) + "\n",
    )  # fmt: skip


def test_add_list_test_remove_an_imap_account(
    cli: Cli, dovecot: DovecotMailbox, memory_keyring: MemoryKeyring
) -> None:
    code, out, err = _add_imap(cli, dovecot)
    assert code == 0, err
    assert "Added IMAP account 'office'" in out
    assert "password stored in the keyring" in out

    (listed,) = cli.json("accounts", "list")
    assert listed["kind"] == "imap"
    assert listed["host"] == dovecot.host
    assert listed["port"] == dovecot.imaps_port
    assert listed["security"] == "tls"
    assert listed["processed"] == "flag"
    assert listed["first_sync_days"] == 14
    assert listed["sender"] is False
    assert listed["secrets"] == {"password": True}
    assert dovecot.password not in json.dumps(listed)
    assert dovecot.password.encode() not in (cli.profile / "inbox-triage.db").read_bytes()
    assert memory_keyring.passwords[("inbox-triage", "account:office:password")] == dovecot.password

    code, out, _ = cli("accounts", "test", "office")
    assert code == 0
    assert "ok   login" in out
    assert out.strip().splitlines()[-1].startswith("OK: connected to")
    result = cli.json("accounts", "test", "office")
    assert result["ok"] is True
    assert [s["stage"] for s in result["stages"]] == ["dns", "tcp", "tls", "login", "folder"]

    code, out, err = cli("accounts", "remove", "office")
    assert code == 0, err
    assert cli.json("accounts", "list") == []
    assert ("inbox-triage", "account:office:password") not in memory_keyring.passwords


def test_a_wrong_password_fails_the_test_at_login(cli: Cli, dovecot: DovecotMailbox) -> None:
    _add_imap(cli, dovecot, password="not-it")
    code, out, _ = cli("accounts", "test", "office", "--json")
    assert code == 1
    result = json.loads(out)
    assert result["ok"] is False
    assert result["failed_stage"] == "login"
    assert "AUTHENTICATIONFAILED" in result["message"]


def test_invalid_settings_are_refused_with_what_to_fix(cli: Cli) -> None:
    code, _, err = cli(
        "accounts", "add", "imap", "office", "--host", "imap.example.co.uk", "--security", "none"
    )
    assert code == 1
    assert "security: an unencrypted connection is only allowed to this computer" in err
    assert "username: enter the login name" in err
    code, _, err = cli("accounts", "add", "pop3", "office")
    assert code == 2


def test_imap_and_smtp_accounts_then_mail_flows(
    cli: Cli, dovecot: DovecotMailbox, smtp_starttls_server: SmtpServer
) -> None:
    assert _add_imap(cli, dovecot)[0] == 0
    code, _, err = cli(
        "accounts", "add", "smtp", "outgoing",
        "--host", smtp_starttls_server.host, "--port", str(smtp_starttls_server.port), "--user", "test",
        "--ca-file", str(smtp_starttls_server.ca_file), "--sent-account", "office", "--password-stdin",
        stdin="testpass\n",
    )  # fmt: skip
    assert code == 0, err
    result = cli.json("accounts", "test", "outgoing")
    assert result["ok"], result["message"]
    assert result["stages"][-1]["message"] == "Sent folder 'Sent' can be searched"
    listed = {a["name"]: a for a in cli.json("accounts", "list")}
    assert listed["outgoing"]["sender"] is True
    assert listed["outgoing"]["sent_copy"] == "append"
    # A second sender is refused.
    code, _, err = cli("accounts", "add", "graph", "m365", "--client-id", CLIENT_ID)
    assert code == 1
    assert "more than one account sends replies" in err
    # The configured IMAP account is polled.
    dovecot.append(dovecot.user, "INBOX", message(1))
    summary = cli.json("run", "--once")
    assert summary["ingested"]["new_runs"] == 1
    assert summary["source_errors"] == {}
    # The IMAP account cannot go while the SMTP account files its replies there.
    code, _, err = cli("accounts", "remove", "office")
    assert code == 1
    assert "used by outgoing" in err


def test_gmail_preset(cli: Cli) -> None:
    code, _, err = cli("accounts", "add", "imap", "gmail", "--preset", "gmail", "--user", "jo@gmail.com",
                       "--password-stdin", stdin="app-password\n")  # fmt: skip
    assert code == 0, err
    code, _, err = cli("accounts", "add", "smtp", "gmail-out", "--preset", "gmail", "--sent-account", "gmail",
                       "--login-from", "gmail")  # fmt: skip
    assert code == 0, err
    listed = {a["name"]: a for a in cli.json("accounts", "list")}
    assert (listed["gmail"]["host"], listed["gmail"]["port"], listed["gmail"]["security"]) == (
        "imap.gmail.com",
        993,
        "tls",
    )
    out = listed["gmail-out"]
    assert (out["host"], out["port"], out["security"]) == ("smtp.gmail.com", 465, "tls")
    assert (out["sent_folder"], out["sent_copy"]) == ("[Gmail]/Sent Mail", "server")
    assert out["secrets"] == {}


def test_microsoft_365_sign_in_and_test(cli: Cli, fake_microsoft: FakeMicrosoft) -> None:
    code, out, err = cli(
        "accounts", "add", "graph", "m365", "--client-id", CLIENT_ID, "--tenant", TENANT,
        "--authority", fake_microsoft.origin, "--graph-url", fake_microsoft.graph_url,
        "--ca-file", str(fake_microsoft.ca_file), "--mailbox", "office@print.example",
    )  # fmt: skip
    assert code == 0, err
    assert "accounts sign-in m365" in out
    code, out, err = cli("accounts", "sign-in", "m365")
    assert code == 0, err
    assert "enter ABCD-EFGH" in out
    assert "Signed in as office@print.example" in out
    result = cli.json("accounts", "test", "m365")
    assert result["ok"], result["message"]
    (listed,) = cli.json("accounts", "list")
    assert listed["sender"] is True
    assert listed["secrets"] == {"msal-cache": True}


# --- push ------------------------------------------------------------------------------------------


def test_idle_push_polls_again_when_a_poll_was_running() -> None:
    calls: list[bool] = []
    results = iter([False, False, True])  # busy, busy, then it runs
    done = threading.Event()

    def poll_now() -> bool:
        ran = next(results)
        calls.append(ran)
        if ran:
            done.set()
        return ran

    stop = threading.Event()
    push = IdlePush(poll_now, stop)
    push.start_polling()  # no accounts needed to exercise the coalescing thread
    push.notify("office")
    assert done.wait(5)
    stop.set()
    push.stop()
    assert calls == [False, False, True]


def test_new_mail_pushed_by_idle_becomes_a_run_within_seconds(cli: Cli, dovecot: DovecotMailbox) -> None:
    assert _add_imap(cli, dovecot)[0] == 0
    service = open_service(cli.profile)
    stop = threading.Event()
    polled = threading.Condition()
    new_runs: list[float] = []

    def on_polled(result: object) -> None:
        if isinstance(result, PollReport) and result.ingest.new_runs:
            with polled:
                new_runs.append(time.perf_counter())
                polled.notify_all()

    hourly = ScheduleSettings(poll_minutes=60, working_hours_only=False)
    scheduler = PollScheduler(lambda: service.poll(stop=stop), lambda: hourly, on_polled=on_polled)
    push = IdlePush(lambda: scheduler.run_once(manual=True), stop)
    try:
        assert push.start(service) == 1
        assert push.watchers[0].idling.wait(10)
        appended = time.perf_counter()
        dovecot.append(dovecot.user, "INBOX", message(7))
        with polled:
            assert polled.wait_for(lambda: new_runs, timeout=10)
        assert new_runs[0] - appended < 5.0  # the benchmark measures it precisely
        assert service.queries.count_runs() == 1
    finally:
        stop.set()
        push.stop()
        service.close()
