"""The retention purge record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.audit.chain import seal
from engine.audit.event import GENESIS_HASH
from engine.audit.retention import PURGE_ACTION, PurgeRecord
from engine.audit.verify import verify_chain
from tests.engine.audit.helpers import build_chain

CUTOFF = datetime(2026, 9, 1, tzinfo=UTC)


def test_a_purge_records_what_went_without_naming_messages() -> None:
    oldest, newest = datetime(2026, 5, 3, 8, 15, tzinfo=UTC), datetime(2026, 8, 31, 23, 59, tzinfo=UTC)
    record = PurgeRecord(messages=12, retention_days=90, cutoff=CUTOFF, oldest=oldest, newest=newest)
    assert record.detail() == {
        "messages_purged": 12,
        "retention_days": 90,
        "cutoff": "2026-09-01T00:00:00.000000Z",
        "oldest_received": "2026-05-03T08:15:00.000000Z",
        "newest_received": "2026-08-31T23:59:00.000000Z",
    }
    event = record.event()
    assert event.action == PURGE_ACTION and event.outcome == "ok" and event.actor == "system"
    assert set(event.data_categories) == {"message_body", "attachment_metadata", "draft_reply"}
    assert event.run_id is None and event.email_ref is None


def test_an_empty_purge_is_recorded_too() -> None:
    event = PurgeRecord(messages=0, retention_days=90, cutoff=CUTOFF).event(actor="user:Zoë Ellis")
    assert event.outcome == "nothing_to_purge" and event.data_categories == ()
    assert event.detail["oldest_received"] is None and event.actor == "user:Zoë Ellis"


@pytest.mark.parametrize("kwargs", [
    {"messages": -1},
    {"retention_days": -5},
    {"messages": 3},  # dates missing
    {"messages": 0, "oldest": CUTOFF, "newest": CUTOFF},
    {"messages": 2, "oldest": CUTOFF},
])
def test_impossible_purges_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"negative|oldest"):
        PurgeRecord(**{"messages": 0, "retention_days": 90, "cutoff": CUTOFF, **kwargs})  # type: ignore[arg-type]


def test_the_chain_still_verifies_after_a_purge_event() -> None:
    log = build_chain(5)
    record = PurgeRecord(messages=5, retention_days=90, cutoff=CUTOFF, oldest=CUTOFF, newest=CUTOFF)
    log.append(seal(record.event(), seq=6, ts=CUTOFF, prev_hash=log[-1].hash))
    assert verify_chain(log).ok
    assert log[0].prev_hash == GENESIS_HASH
