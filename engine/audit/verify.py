"""Verifying a stream of audit events: numbering, links, field rules and recomputed hashes.

Verification walks the events once in order and keeps only the previous event's number and hash,
so it runs in constant memory over a log of any length. It stops at the first problem and names
the sequence number where the chain breaks, with a plain-English explanation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from engine.audit.chain import event_canonical_bytes, field_problem
from engine.audit.event import GENESIS_HASH, AuditEvent
from engine.errors import AuditIntegrityError

__all__ = ["ChainVerifier", "VerifyResult", "verify_chain"]


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of verifying a run of events.

    ``count`` is the number of events that verified (all of them when ``ok``); ``head_seq`` and
    ``head_hash`` describe the last event that verified (None when none did). When not ``ok``,
    ``first_bad_seq`` is the sequence number where the chain breaks and ``problem`` says how.
    """

    ok: bool
    count: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None
    problem: str | None

    def raise_for_problem(self) -> None:
        """Raise :class:`engine.errors.AuditIntegrityError` naming the first bad seq, if any."""
        if not self.ok:
            message = f"audit event {self.first_bad_seq}: {self.problem}"
            raise AuditIntegrityError(message, seq=self.first_bad_seq)


class ChainVerifier:
    """Checks events one at a time (see :func:`verify_chain`); stops at the first problem."""

    def __init__(self, *, expected_prev: str = GENESIS_HASH, expected_first_seq: int | None = 1) -> None:
        """Start a chain whose first event must link to ``expected_prev`` and (if given) carry that seq."""
        self._prev_hash = expected_prev
        self._next_seq = expected_first_seq
        self._count = 0
        self._head_seq: int | None = None
        self._bad_seq: int | None = None
        self._problem: str | None = None

    @property
    def failed(self) -> bool:
        """Whether a problem has been found."""
        return self._problem is not None

    def feed(self, event: AuditEvent) -> bool:
        """Check the next event; return False (and remember why) at the first problem."""
        if self._problem is not None:
            return False
        expected = self._next_seq
        seq = event.seq
        if expected is not None and seq != expected:
            return self._fail(expected, _sequence_problem(expected, seq, self._head_seq))
        problem = field_problem(event)
        if problem is not None:
            return self._fail(seq, f"event {seq} is malformed: {problem}")
        if event.prev_hash != self._prev_hash:
            return self._fail(seq, self._link_problem(seq))
        recomputed = hashlib.sha256(event_canonical_bytes(event)).hexdigest()
        if recomputed != event.hash:
            return self._fail(
                seq,
                f"event {seq} has been altered: its contents hash to {recomputed}, "
                f"but its recorded hash is {event.hash}",
            )
        self._prev_hash = event.hash
        self._head_seq = seq
        self._next_seq = seq + 1
        self._count += 1
        return True

    def result(self) -> VerifyResult:
        """What has been verified so far."""
        return VerifyResult(
            ok=self._problem is None,
            count=self._count,
            head_seq=self._head_seq,
            head_hash=self._prev_hash if self._head_seq is not None else None,
            first_bad_seq=self._bad_seq,
            problem=self._problem,
        )

    def fail_at(self, seq: int | None, problem: str) -> None:
        """Record a problem found outside the chain itself (e.g. an unreadable export line)."""
        if self._problem is None:
            self._fail(seq, problem)

    @property
    def next_seq(self) -> int | None:
        """The sequence number the next event must carry (None if the first may carry any)."""
        return self._next_seq

    def _fail(self, seq: int | None, problem: str) -> bool:
        self._bad_seq = seq
        self._problem = problem
        return False

    def _link_problem(self, seq: int) -> str:
        if self._head_seq is None:
            return (
                f"event {seq} does not link to what precedes it: its prev_hash should be "
                f"{self._prev_hash} (the start of the chain or of this export)"
            )
        return (
            f"event {seq}'s prev_hash does not match the hash of event {self._head_seq}: event "
            f"{self._head_seq} was rewritten (hash recomputed), or an event was removed, inserted "
            f"or moved between them"
        )


def _sequence_problem(expected: int, seq: int, head: int | None) -> str:
    after = f"after event {head}" if head is not None else "at the start"
    if seq > expected:
        missing = f"event {expected} is" if seq == expected + 1 else f"events {expected} to {seq - 1} are"
        return f"{missing} missing or out of order: {after} comes event {seq}"
    if head is not None and seq == head:
        return f"event {seq} appears twice: {after} comes another event {seq} (an inserted or repeated event)"
    return f"events out of order: {after} comes event {seq}, expected event {expected}"


def verify_chain(
    events: Iterable[AuditEvent],
    *,
    expected_prev: str = GENESIS_HASH,
    expected_first_seq: int | None = 1,
) -> VerifyResult:
    """Verify ``events`` in order, streaming, and stop at the first problem.

    Checks that each event carries the next sequence number (the first one ``expected_first_seq``,
    unless that is None), that its fields follow the rules of ``docs/audit-log.md``, that its
    ``prev_hash`` is the previous event's hash (``expected_prev`` for the first), and that its
    ``hash`` is the SHA-256 of its canonical encoding. An empty stream verifies (count 0).
    """
    verifier = ChainVerifier(expected_prev=expected_prev, expected_first_seq=expected_first_seq)
    for event in events:
        if not verifier.feed(event):
            break
    return verifier.result()
