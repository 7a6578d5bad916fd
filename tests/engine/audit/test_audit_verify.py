"""verify_chain: every kind of tampering fails at the right seq with a plain explanation."""

from __future__ import annotations

import hashlib
import tracemalloc
from dataclasses import replace

import pytest

from engine.audit.chain import event_canonical_bytes, seal
from engine.audit.event import GENESIS_HASH, AuditEvent, NewAuditEvent
from engine.audit.verify import verify_chain
from engine.errors import AuditIntegrityError
from tests.engine.audit.helpers import START, iter_chain


def _rehash(event: AuditEvent) -> AuditEvent:
    return replace(event, hash=hashlib.sha256(event_canonical_bytes(event)).hexdigest())


def test_an_intact_chain_verifies(chain: list[AuditEvent]) -> None:
    result = verify_chain(chain)
    assert result.ok and result.problem is None and result.first_bad_seq is None
    assert result.count == 12 and result.head_seq == 12 and result.head_hash == chain[-1].hash
    result.raise_for_problem()  # no error


def test_an_empty_log_verifies() -> None:
    result = verify_chain([])
    assert result.ok and result.count == 0 and result.head_seq is None and result.head_hash is None


def test_a_tampered_field_is_named(chain: list[AuditEvent]) -> None:
    chain[6] = replace(chain[6], detail={**chain[6].detail, "extra": "sneaky"})
    result = verify_chain(chain)
    assert not result.ok and result.first_bad_seq == 7 and result.count == 6 and result.head_seq == 6
    assert result.problem is not None and "event 7 has been altered" in result.problem


@pytest.mark.parametrize("field", ["actor", "outcome", "destination", "email_ref", "ts"])
def test_every_field_is_covered_by_the_hash(chain: list[AuditEvent], field: str) -> None:
    value = "2027-01-01T00:00:00.000000Z" if field == "ts" else "user:Mallory"
    chain[3] = replace(chain[3], **{field: value})
    result = verify_chain(chain)
    assert result.first_bad_seq == 4 and "altered" in (result.problem or "")


def test_a_deleted_event_is_named(chain: list[AuditEvent]) -> None:
    del chain[4]
    result = verify_chain(chain)
    assert result.first_bad_seq == 5
    assert result.problem == "event 5 is missing or out of order: after event 4 comes event 6"


def test_several_deleted_events_are_named(chain: list[AuditEvent]) -> None:
    del chain[4:7]
    problem = verify_chain(chain).problem
    assert problem == "events 5 to 7 are missing or out of order: after event 4 comes event 8"


def test_a_deleted_first_event_is_named(chain: list[AuditEvent]) -> None:
    result = verify_chain(chain[1:])
    assert result.first_bad_seq == 1 and "event 1 is missing" in (result.problem or "")


def test_a_deletion_hidden_by_renumbering_breaks_the_link(chain: list[AuditEvent]) -> None:
    del chain[4]
    renumbered = chain[:4] + [_rehash(replace(e, seq=e.seq - 1)) for e in chain[4:]]
    result = verify_chain(renumbered)
    assert result.first_bad_seq == 5
    assert "event 5's prev_hash does not match the hash of event 4" in (result.problem or "")


def test_an_inserted_event_is_named(chain: list[AuditEvent]) -> None:
    forged = seal(NewAuditEvent(action="review.approved", outcome="approved", actor="user:Mallory"),
                  seq=5, ts=START, prev_hash=chain[3].hash)
    chain.insert(4, forged)  # a well-formed event 5 linked to event 4 — then the real event 5
    result = verify_chain(chain)
    assert result.first_bad_seq == 6
    assert result.problem == (
        "event 5 appears twice: after event 5 comes another event 5 (an inserted or repeated event)"
    )


def test_a_duplicated_event_is_named(chain: list[AuditEvent]) -> None:
    chain.insert(5, chain[4])
    result = verify_chain(chain)
    assert result.first_bad_seq == 6 and "event 5 appears twice" in (result.problem or "")


def test_an_event_moved_backwards_is_named(chain: list[AuditEvent]) -> None:
    chain.insert(8, chain.pop(2))
    result = verify_chain(chain)
    assert result.first_bad_seq == 3
    assert result.problem == "event 3 is missing or out of order: after event 2 comes event 4"


def test_an_old_event_replayed_later_is_named(chain: list[AuditEvent]) -> None:
    chain.insert(8, chain[2])
    result = verify_chain(chain)
    assert result.first_bad_seq == 9
    assert result.problem == "events out of order: after event 8 comes event 3, expected event 9"


def test_a_reordered_pair_is_named(chain: list[AuditEvent]) -> None:
    chain[7], chain[8] = chain[8], chain[7]
    result = verify_chain(chain)
    assert result.first_bad_seq == 8
    assert result.problem == "event 8 is missing or out of order: after event 7 comes event 9"


def test_a_rewritten_hash_is_named(chain: list[AuditEvent]) -> None:
    chain[2] = replace(chain[2], hash="f" * 64)
    result = verify_chain(chain)
    assert result.first_bad_seq == 3 and "recorded hash is " + "f" * 64 in (result.problem or "")


def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link(chain: list[AuditEvent]) -> None:
    chain[2] = _rehash(replace(chain[2], outcome="rejected"))
    result = verify_chain(chain)
    assert result.first_bad_seq == 4 and "event 3 was rewritten" in (result.problem or "")


def test_a_rewritten_last_event_verifies_alone_which_is_why_heads_are_signed(chain: list[AuditEvent]) -> None:
    chain[-1] = _rehash(replace(chain[-1], outcome="rejected"))
    result = verify_chain(chain)
    assert result.ok and result.head_hash == chain[-1].hash  # only an anchor of the old head can tell


def test_a_malformed_field_is_reported_before_hashing(chain: list[AuditEvent]) -> None:
    chain[1] = replace(chain[1], detail={"confidence": 0.87})
    result = verify_chain(chain)
    assert result.first_bad_seq == 2
    assert result.problem == (
        "event 2 is malformed: detail.confidence is a floating-point number, "
        "which the canonical encoding does not allow"
    )


def test_a_wrong_genesis_is_named(chain: list[AuditEvent]) -> None:
    result = verify_chain(chain, expected_prev="1" * 64)
    assert result.first_bad_seq == 1 and "does not link" in (result.problem or "")


def test_a_slice_verifies_from_its_first_prev_hash(chain: list[AuditEvent]) -> None:
    assert verify_chain(chain[4:9], expected_prev=chain[3].hash, expected_first_seq=5).ok
    assert verify_chain(chain[4:9], expected_prev=chain[3].hash, expected_first_seq=None).ok
    assert verify_chain(chain[4:9], expected_prev=chain[3].hash).first_bad_seq == 1


def test_raise_for_problem_names_the_seq(chain: list[AuditEvent]) -> None:
    chain[9] = replace(chain[9], action="email.deleted")
    with pytest.raises(AuditIntegrityError, match="audit event 10") as info:
        verify_chain(chain).raise_for_problem()
    assert info.value.seq == 10


def test_verification_streams_in_constant_memory() -> None:
    """5,000 events from a generator: peak traced memory stays far below holding them all (~10 MB)."""
    events = iter_chain(5_000)
    tracemalloc.start()
    try:
        result = verify_chain(events)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and result.count == 5_000
    assert peak < 1_000_000, f"peak {peak} bytes: verification must not keep events"


def test_the_first_problem_stops_verification(chain: list[AuditEvent]) -> None:
    consumed: list[int] = []

    def stream() -> object:
        for event in chain:
            consumed.append(event.seq)
            yield replace(event, hash=GENESIS_HASH) if event.seq == 3 else event

    result = verify_chain(stream())  # type: ignore[arg-type]
    assert result.first_bad_seq == 3 and consumed == [1, 2, 3]
