"""Dropped connections and server restarts: reconnect with backoff, say so, lose and duplicate nothing."""

from __future__ import annotations

import threading

import pytest

from connectors.errors import ConnectionFailedError
from connectors.imap.session import Backoff
from engine.ingest import IngestReport, ingest_source
from engine.storage.db import Database
from tests.connectors.imap.helpers import ImapHarness, message, run_counts
from tests.connectors.imap.proxy import CountingProxy


def test_a_dropped_connection_is_reopened_at_once(
    imap: ImapHarness, counting_proxy_factory: type[CountingProxy]
) -> None:
    imap.seed(2)
    proxy = counting_proxy_factory(imap.dovecot.host, imap.dovecot.imap_port)
    session = imap.session("none", port=proxy.port)
    source = imap.source(session)
    cursor = list(source.fetch(None))[-1].cursor
    proxy.cut()  # the network dropped the idle connection between two polls
    imap.seed(1, start=3)
    assert [m.raw for b in source.fetch(cursor) for m in b.messages] == [message(3)]
    assert session.connects == 2
    assert [s.state for s in imap.statuses] == ["reconnecting", "connected"]
    assert "reconnecting in 0 s" in imap.statuses[0].message


def test_server_down_backs_off_reports_and_gives_up_then_recovers(imap: ImapHarness) -> None:
    imap.seed(1)
    session = imap.session(backoff=Backoff(initial_s=0.05, multiplier=2.0, max_s=1.0, max_attempts=4))
    source = imap.source(session)
    imap.dovecot.stop()
    with pytest.raises(ConnectionFailedError, match="refused"):
        list(source.fetch(None))
    delays = [s.retry_in_s for s in imap.statuses if s.state == "reconnecting"]
    assert delays == [0.05, 0.1, 0.2]  # exponential; the first connect never succeeded, so no instant retry
    assert "reconnecting in 0.1 s" in imap.statuses[1].message
    assert imap.statuses[-1].state == "offline"
    imap.dovecot.start()
    assert len([m for b in source.fetch(None) for m in b.messages]) == 1


def test_server_restarted_in_the_middle_of_a_sync_every_message_has_exactly_one_run(
    imap: ImapHarness, engine_db: Database
) -> None:
    imap.seed(300)
    source = imap.source(batch_size=20)
    restart: list[threading.Thread] = []

    def after_batch(report: IngestReport) -> None:
        if not restart:  # after the first stored batch: every connection dropped, server restarting
            imap.dovecot.kick()
            thread = threading.Thread(target=imap.dovecot.restart)
            thread.start()
            restart.append(thread)

    report = ingest_source(engine_db, source, on_batch=after_batch)
    restart[0].join()
    assert report.fetched == 300
    assert report.new_runs == 300
    counts = run_counts(engine_db)
    assert len(counts) == 300
    assert set(counts.values()) == {1}
    assert any(s.state == "reconnecting" for s in imap.statuses)
    assert imap.statuses[-1].state == "connected"


def test_a_sync_cut_short_by_an_outage_finishes_later_without_duplicates(
    imap: ImapHarness, engine_db: Database
) -> None:
    imap.seed(100)
    session = imap.session(backoff=Backoff(initial_s=0.05, max_s=0.1, max_attempts=2))
    source = imap.source(session, batch_size=10)
    stored: list[int] = []

    def after_batch(report: IngestReport) -> None:
        stored.append(report.new_runs)
        if len(stored) == 3:
            imap.dovecot.kick()
            imap.dovecot.stop()

    with pytest.raises(ConnectionFailedError):
        ingest_source(engine_db, source, on_batch=after_batch)
    assert sum(stored) == 30  # three batches (and their cursor) were stored before the outage
    imap.dovecot.start()
    resumed = ingest_source(engine_db, source)
    assert resumed.fetched == 70  # it carried on from the stored cursor
    counts = run_counts(engine_db)
    assert len(counts) == 100
    assert set(counts.values()) == {1}
