"""Syncing a real Dovecot folder: first-sync window, incremental by UID, batches, cursors, cheap polls."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from connectors.imap.client import open_client
from connectors.imap.source import ImapSource
from connectors.imap.sync import SyncCursor
from engine.ingest import ingest_source
from engine.ports import FetchedBatch, MessageRef
from engine.storage.db import Database
from tests.connectors.imap.helpers import ImapHarness, message, run_counts
from tests.connectors.imap.proxy import CountingProxy


def _messages(batches: list[FetchedBatch]) -> list[bytes]:
    return [m.raw for b in batches for m in b.messages]


def test_first_sync_takes_only_mail_newer_than_n_days(imap: ImapHarness) -> None:
    now = datetime.now(UTC)
    client = open_client(imap.endpoint(), imap.login())
    try:
        for number, age_days in ((1, 400), (2, 30), (3, 15), (4, 13), (5, 0)):
            client.append("INBOX", message(number), when=now - timedelta(days=age_days))
    finally:
        client.logout()
    source = imap.source(first_sync_days=14)
    batches = list(source.fetch(None))
    assert _messages(batches) == [message(4), message(5)]
    cursor = SyncCursor.from_json(batches[-1].cursor)
    assert cursor is not None
    assert cursor.complete
    assert cursor.since == now.date() - timedelta(days=14)
    assert cursor.last_uid == 5  # the old messages are behind the cursor, never fetched later

    # Mail moved into the inbox later is new to the office, whatever its date: it is fetched.
    client = open_client(imap.endpoint(), imap.login())
    try:
        client.append("INBOX", message(6), when=now - timedelta(days=90))
    finally:
        client.logout()
    assert _messages(list(source.fetch(batches[-1].cursor))) == [message(6)]


def test_incremental_sync_fetches_only_new_uids(imap: ImapHarness) -> None:
    imap.seed(5)
    source = imap.source()
    first = list(source.fetch(None))
    assert len(_messages(first)) == 5
    cursor = first[-1].cursor
    assert cursor["last_uid"] == 5
    assert cursor["modseq"] is not None  # CONDSTORE is offered and enabled

    imap.seed(3, start=6)
    second = list(source.fetch(cursor))
    assert _messages(second) == [message(6), message(7), message(8)]
    fetched = [m for b in second for m in b.messages]
    assert [m.uid for m in fetched] == [6, 7, 8]
    assert {m.uidvalidity for m in fetched} == {first[0].messages[0].uidvalidity}
    assert all(m.received_at is not None and m.account == "office" for m in fetched)
    assert second[-1].cursor["last_uid"] == 8
    assert list(source.fetch(second[-1].cursor)) == []


def test_fetching_does_not_mark_mail_read(imap: ImapHarness) -> None:
    (uid,) = imap.seed(1)
    list(imap.source().fetch(None))
    assert "\\Seen" not in imap.flags(uid)


def test_batches_carry_cursors_and_a_lost_batch_is_fetched_again(imap: ImapHarness) -> None:
    imap.seed(10)
    source = imap.source(batch_size=4)
    batches = list(source.fetch(None))
    assert [len(b.messages) for b in batches] == [4, 4, 2]
    assert [b.cursor["last_uid"] for b in batches] == [4, 8, 10]
    assert [b.cursor["complete"] for b in batches] == [False, False, True]
    # The engine stored batch 1 and crashed before batch 2 was stored: resume from batch 1's cursor.
    resumed = list(source.fetch(batches[0].cursor))
    assert _messages(resumed) == [message(n) for n in range(5, 11)]
    assert resumed[-1].cursor["complete"]


def test_a_large_message_gets_a_batch_of_its_own(imap: ImapHarness) -> None:
    big = message(2, body="x" * 200_000 + "\r\n")
    imap.dovecot.append_many(imap.dovecot.user, "INBOX", [message(1), big, message(3)])
    source = ImapSource(imap.session(), batch_bytes=100_000)
    assert [len(b.messages) for b in source.fetch(None)] == [1, 1, 1]


def test_a_poll_with_nothing_new_is_one_noop_on_a_reused_connection(
    imap: ImapHarness, counting_proxy_factory: type[CountingProxy]
) -> None:
    imap.seed(20)
    proxy = counting_proxy_factory(imap.dovecot.host, imap.dovecot.imap_port)
    session = imap.session("none", port=proxy.port)
    source = imap.source(session)
    cursor = list(source.fetch(None))[-1].cursor
    assert proxy.commands[:3] == ["LOGIN", "ENABLE", "SELECT"]  # no CAPABILITY round trip

    imap.flags(1)  # another client reads flags; nothing new arrives
    timings = []
    for _ in range(5):
        proxy.reset()
        started = time.perf_counter()
        assert list(source.fetch(cursor)) == []
        timings.append(time.perf_counter() - started)
        assert proxy.commands == ["NOOP"]  # the folder stays selected; NOOP collects any news
    assert min(timings) < 0.2


def test_new_mail_found_by_the_noop_is_fetched(
    imap: ImapHarness, counting_proxy_factory: type[CountingProxy]
) -> None:
    imap.seed(3)
    proxy = counting_proxy_factory(imap.dovecot.host, imap.dovecot.imap_port)
    source = imap.source(imap.session("none", port=proxy.port))
    cursor = list(source.fetch(None))[-1].cursor
    imap.seed(2, start=4)
    proxy.reset()
    batches = list(source.fetch(cursor))
    assert [m.raw for b in batches for m in b.messages] == [message(4), message(5)]
    assert proxy.commands == ["NOOP", "UID", "UID", "UID"]  # NOOP, SEARCH, sizes, bodies: no SELECT
    assert batches[-1].cursor["last_uid"] == 5
    assert list(source.fetch(batches[-1].cursor)) == []


def test_news_announced_during_marking_is_not_lost(imap: ImapHarness) -> None:
    """New mail the server mentions in its answer to a STORE still makes the next poll search."""
    imap.seed(1)
    source = imap.source()
    batch = list(source.fetch(None))[-1]
    imap.seed(1, start=2)  # arrives...
    raw = batch.messages[0]
    source.mark_answered(
        MessageRef(raw.account, raw.folder, raw.uidvalidity, raw.uid, None, None)
    )  # ...seen here
    assert [m.raw for b in source.fetch(batch.cursor) for m in b.messages] == [message(2)]


def test_a_poll_with_nothing_new_on_a_fresh_connection_is_three_commands(
    imap: ImapHarness, counting_proxy_factory: type[CountingProxy]
) -> None:
    imap.seed(3)
    cursor = list(imap.source().fetch(None))[-1].cursor
    proxy = counting_proxy_factory(imap.dovecot.host, imap.dovecot.imap_port)
    source = imap.source(imap.session("none", port=proxy.port))
    assert list(source.fetch(cursor)) == []
    assert proxy.commands == ["LOGIN", "ENABLE", "SELECT"]


def test_flag_changes_alone_are_not_new_mail(imap: ImapHarness) -> None:
    uids = imap.seed(3)
    source = imap.source()
    cursor = list(source.fetch(None))[-1].cursor
    connection = imap.dovecot.connect()
    try:
        connection.select("INBOX")
        connection.uid("STORE", str(uids[0]), "+FLAGS", "(\\Flagged)")  # raises HIGHESTMODSEQ
    finally:
        connection.logout()
    assert list(source.fetch(cursor)) == []


def test_uidvalidity_change_resyncs_without_duplicates(imap: ImapHarness, engine_db: Database) -> None:
    imap.seed(6)
    source = imap.source()
    first = ingest_source(engine_db, source)
    assert first.new_runs == 6
    old = source.session.run(lambda c: c.select("INBOX"))

    imap.dovecot.reset_uid_validity()
    imap.seed(1, start=7)  # and one new message arrives
    second = ingest_source(engine_db, source)
    new = source.session.run(lambda c: c.select("INBOX"))
    assert new.uidvalidity != old.uidvalidity
    assert second.fetched == 7  # the folder was read again...
    assert second.duplicates == 6  # ...and the engine dropped what it had, by Message-ID
    assert second.new_runs == 1
    counts = run_counts(engine_db)
    assert len(counts) == 7
    assert set(counts.values()) == {1}
    assert ingest_source(engine_db, source).fetched == 0  # and the next poll is incremental again
