"""IDLE push from a real Dovecot: new mail within seconds, re-IDLE, reconnect, clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from connectors.imap.idle import IdleWatcher
from connectors.imap.session import ConnectionStatus
from tests.connectors.imap.helpers import FAST_BACKOFF, ImapHarness, message


class Pushes:
    """Counts new-mail calls and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.accounts: list[str] = []

    def __call__(self, account: str) -> None:
        with self.condition:
            self.accounts.append(account)
            self.condition.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> float:
        """Block until ``count`` pushes arrived; return the seconds waited."""
        started = time.perf_counter()
        with self.condition:
            if not self.condition.wait_for(lambda: len(self.accounts) >= count, timeout):
                raise TimeoutError(f"{len(self.accounts)} push(es) after {timeout} s, expected {count}")
        return time.perf_counter() - started


@pytest.fixture
def pushes() -> Pushes:
    return Pushes()


WatcherFactory = Callable[..., IdleWatcher]


@pytest.fixture
def watcher_factory(imap: ImapHarness, pushes: Pushes) -> Iterator[WatcherFactory]:
    watchers: list[IdleWatcher] = []

    def factory(reidle_s: float = 29 * 60.0) -> IdleWatcher:
        watcher = IdleWatcher(
            imap.endpoint(),
            imap.login(),
            account="office",
            folder="INBOX",
            on_new_mail=pushes,
            status=imap.statuses.append,
            backoff=FAST_BACKOFF,
            reidle_s=reidle_s,
        )
        watchers.append(watcher)
        return watcher

    yield factory
    for watcher in watchers:
        if watcher.running:
            watcher.stop()


def test_new_mail_is_pushed_within_seconds(
    imap: ImapHarness, pushes: Pushes, watcher_factory: WatcherFactory
) -> None:
    watcher = watcher_factory()
    watcher.start()
    assert watcher.idling.wait(5)
    imap.dovecot.append(imap.dovecot.user, "INBOX", message(1))
    assert pushes.wait_for(1) < 3.0  # Dovecot announces new mail after ~0.5 s; the benchmark measures it
    assert pushes.accounts == ["office"]
    imap.dovecot.append(imap.dovecot.user, "INBOX", message(2))
    pushes.wait_for(2)
    assert watcher.idle_commands == 1  # one IDLE command served both pushes


def test_idle_is_renewed_and_keeps_pushing(
    imap: ImapHarness, pushes: Pushes, watcher_factory: WatcherFactory
) -> None:
    watcher = watcher_factory(reidle_s=0.2)
    watcher.start()
    assert watcher.wait_for_idle_commands(3, timeout=5)
    imap.dovecot.append(imap.dovecot.user, "INBOX", message(1))
    pushes.wait_for(1)


def test_stop_is_prompt_and_clean(imap: ImapHarness, watcher_factory: WatcherFactory) -> None:
    watcher = watcher_factory()
    watcher.start()
    assert watcher.idling.wait(5)
    started = time.perf_counter()
    watcher.stop()
    assert time.perf_counter() - started < 1.0
    assert not watcher.running
    assert imap.statuses[-1] == ConnectionStatus("office", "stopped", "office: push notifications stopped")


def test_reconnects_after_the_server_drops_it_and_catches_up(
    imap: ImapHarness, pushes: Pushes, watcher_factory: WatcherFactory
) -> None:
    watcher = watcher_factory()
    watcher.start()
    assert watcher.idling.wait(5)
    imap.dovecot.kick()
    imap.dovecot.restart()
    pushes.wait_for(1, timeout=10)  # connected again: a catch-up poll is requested
    assert any(s.state == "reconnecting" and "reconnecting in" in s.message for s in imap.statuses)
    assert watcher.idling.wait(5)
    imap.dovecot.append(imap.dovecot.user, "INBOX", message(1))
    pushes.wait_for(2)


def test_a_refused_login_is_reported_and_retried_slowly(imap: ImapHarness, pushes: Pushes) -> None:
    statuses: list[ConnectionStatus] = []
    reported = threading.Event()

    def status(update: ConnectionStatus) -> None:
        statuses.append(update)
        reported.set()

    watcher = IdleWatcher(
        imap.endpoint(),
        imap.login("wrong"),
        account="office",
        folder="INBOX",
        on_new_mail=pushes,
        status=status,
        backoff=FAST_BACKOFF,
    )
    watcher.start()
    try:
        assert reported.wait(5)
        assert statuses[0].state == "offline"
        assert "refused the login" in statuses[0].message
        assert statuses[0].retry_in_s == FAST_BACKOFF.max_s
    finally:
        watcher.stop()
