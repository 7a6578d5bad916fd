"""Graph mail against the fake: delta sync, raw MIME, send, reconcile, throttling, token expiry, limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from connectors.errors import ConnectorOutcomeUnknownError, RateLimitedError, ServerError
from connectors.graph.limits import MailboxLimits
from connectors.graph.source import GraphProcessed
from engine.ingest import ingest_source
from engine.ports import MessageRef
from engine.storage.db import Database
from tests.connectors.graph.helpers import GraphHarness
from tests.connectors.imap.helpers import message, run_counts
from tests.connectors.smtp.helpers import reply_to


def _deliver(graph: GraphHarness, numbers: range, *, age_days: int = 0) -> None:
    for number in numbers:
        graph.fake.deliver(message(number), received=datetime.now(UTC) - timedelta(days=age_days))


def test_first_sync_pages_through_the_delta_and_fetches_raw_mime(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 2), age_days=30)  # older than the first-sync window
    _deliver(graph, range(2, 9))
    source = graph.source()
    batches = list(source.fetch(None))
    assert [len(b.messages) for b in batches] == [3, 3, 1]  # Prefer: odata.maxpagesize=3
    assert [b.cursor["link_kind"] for b in batches] == ["next", "next", "delta"]
    raws = [m.raw for b in batches for m in b.messages]
    assert raws == [message(n) for n in range(2, 9)]  # byte for byte, from /$value
    first = batches[0].messages[0]
    assert first.source_key == graph.fake.messages[1].id
    assert first.received_at is not None
    assert first.identity().startswith("m365/inbox/key/AAMk-")
    delta_requests = [r for r in graph.fake.graph_requests() if r.path.endswith("/delta")]
    assert len(delta_requests) == 3


def test_incremental_sync_follows_the_delta_link(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 4))
    source = graph.source()
    cursor = list(source.fetch(None))[-1].cursor
    _deliver(graph, range(4, 6))
    batches = list(source.fetch(cursor))
    assert [m.raw for b in batches for m in b.messages] == [message(4), message(5)]
    cursor = batches[-1].cursor
    assert cursor["link_kind"] == "delta"
    assert [m for b in source.fetch(cursor) for m in b.messages] == []


def test_a_sync_interrupted_mid_way_resumes_from_the_next_link(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 8))
    source = graph.source()
    first_page = next(iter(source.fetch(None)))
    rest = list(source.fetch(first_page.cursor))
    assert [m.raw for b in rest for m in b.messages] == [message(n) for n in range(4, 8)]


def test_an_expired_delta_link_resyncs_and_the_engine_drops_duplicates(
    graph: GraphHarness, engine_db: Database
) -> None:
    _deliver(graph, range(1, 6))
    source = graph.source()
    assert ingest_source(engine_db, source).new_runs == 5
    graph.fake.expire_delta_links()
    _deliver(graph, range(6, 7))
    again = ingest_source(engine_db, source)
    assert again.fetched == 6
    assert again.duplicates == 5
    assert again.new_runs == 1
    assert set(run_counts(engine_db).values()) == {1}


def test_throttling_honours_retry_after(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 2))
    graph.fake.throttle(1, status=429, retry_after="2")
    graph.fake.throttle(1, status=503, retry_after="1")
    batches = list(graph.source().fetch(None))
    assert len(batches[0].messages) == 1
    assert graph.waits == [2.0, 1.0]
    statuses = [r.status for r in graph.fake.graph_requests()]
    assert statuses[:2] == [429, 503]


def test_a_long_retry_after_goes_back_to_the_runner(graph: GraphHarness) -> None:
    client = graph.client()
    graph.fake.throttle(1, status=429, retry_after="120")
    with pytest.raises(RateLimitedError) as caught:
        client.get_json("/me/mailFolders")
    assert caught.value.retry_after == 120.0
    assert graph.waits == []
    graph.fake.throttle(5, status=503, retry_after="1")
    with pytest.raises(ServerError):
        client.get_json("/me/mailFolders")
    assert graph.waits == [1.0, 1.0, 1.0]  # three inline retries, then the runner's turn


def test_an_expired_token_is_refreshed_and_the_request_repeated(graph: GraphHarness) -> None:
    auth = graph.signed_in()
    client = graph.client(auth)
    client.get_json("/me/mailFolders")
    graph.fake.expire_access_tokens()
    assert client.get_json("/me/mailFolders")["value"]
    assert graph.fake.grants[-1] == "refresh_token"
    statuses = [r.status for r in graph.fake.graph_requests()]
    assert statuses == [200, 401, 200]
    assert {e.host for e in graph.events} == {"127.0.0.1"}  # the refresh went to the loopback authority


def test_send_posts_the_mime_and_reconciles_from_sent_items(graph: GraphHarness) -> None:
    sender = graph.sender()
    reply, other = reply_to(1), reply_to(2)
    assert sender.find_sent(reply) is None
    receipt = sender.send(reply)
    assert graph.fake.sent == [reply.mime]
    assert receipt.external_id == reply.message_id
    assert receipt.detail["status"] == 202
    send_request = next(r for r in graph.fake.graph_requests() if r.path == "/v1.0/me/sendMail")
    assert send_request.status == 202
    found = sender.find_sent(reply)
    assert found is not None
    assert found.detail["reconciled"] == "sent_items"
    assert sender.find_sent(other) is None


def test_a_send_accepted_but_unanswered_is_outcome_unknown_then_found(graph: GraphHarness) -> None:
    sender = graph.sender()
    reply = reply_to(3)
    graph.fake.drop_sends_after_accept = 1
    with pytest.raises(ConnectorOutcomeUnknownError):
        sender.send(reply)
    assert graph.fake.sent == [reply.mime]
    assert sender.find_sent(reply) is not None


def test_a_throttled_send_is_retried_once_the_server_allows(graph: GraphHarness) -> None:
    sender = graph.sender()
    graph.fake.throttle(1, status=429, retry_after="3")
    sender.send(reply_to(4))
    assert len(graph.fake.sent) == 1
    assert graph.waits == [3.0]


def test_at_most_four_requests_at_a_time(graph: GraphHarness) -> None:
    client = graph.client()
    graph.fake.hold.clear()
    threads = [threading.Thread(target=client.get_json, args=("/me/mailFolders",)) for _ in range(9)]
    for thread in threads:
        thread.start()
    with graph.fake.lock:
        assert graph.fake.lock.wait_for(lambda: graph.fake.inflight == 4, timeout=5)
        # A fifth request would arrive now if the client let it; give it the chance.
        assert not graph.fake.lock.wait_for(lambda: graph.fake.inflight > 4, timeout=0.3)
    graph.fake.hold.set()
    for thread in threads:
        thread.join(10)
    assert graph.fake.max_inflight == 4
    assert len(graph.fake.graph_requests()) == 9


def test_at_most_thirty_sends_per_minute() -> None:
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limits = MailboxLimits(clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        assert limits.take_send_slot() == 0.0
        now[0] += 1.0  # thirty sends, one a second
    assert limits.take_send_slot() == pytest.approx(30.0)  # the 31st waits for the first to age out
    assert slept == [pytest.approx(30.0)]
    with pytest.raises(RateLimitedError) as caught:
        limits.take_send_slot(max_wait_s=0.5)
    assert caught.value.retry_after is not None and caught.value.retry_after > 0.5


def test_processed_mail_gets_a_category_once_keeping_the_others(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 2))
    graph.fake.messages[0].categories = ["Red category"]
    source = graph.source()
    raw = next(iter(source.fetch(None))).messages[0]
    ref = MessageRef(raw.account, raw.folder, None, None, raw.source_key, None)
    source.mark_processed(ref)
    source.mark_processed(ref)
    assert graph.fake.messages[0].categories == ["Red category", "Triaged"]


def test_processed_mail_is_moved_to_a_folder_created_on_first_use(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 3))
    source = graph.source(processed=GraphProcessed("move", folder="Triaged"))
    batch = next(iter(source.fetch(None)))
    for raw in batch.messages:
        source.mark_processed(MessageRef(raw.account, raw.folder, None, None, raw.source_key, None))
    folder_ids = [i for i, n in graph.fake.folders.items() if n == "Triaged"]
    assert len(folder_ids) == 1  # created once, then reused
    assert {m.folder for m in graph.fake.messages} == {folder_ids[0]}
    source.mark_processed(MessageRef("m365", "inbox", None, None, batch.messages[0].source_key, None))


def test_answered_mail_is_marked_as_replied(graph: GraphHarness) -> None:
    _deliver(graph, range(1, 2))
    source = graph.source()
    raw = next(iter(source.fetch(None))).messages[0]
    source.mark_answered(MessageRef(raw.account, raw.folder, None, None, raw.source_key, None))
    assert graph.fake.messages[0].properties == {"Integer 0x1081": "102", "Integer 0x1080": "261"}
