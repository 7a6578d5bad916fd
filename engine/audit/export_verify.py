"""Verifying an audit export file: its layout, its chain, its footer, its head and its signature.

Follows the procedure of ``docs/audit-log.md`` ("Verifying an export") step by step, streaming
the events once (constant memory). ``tools/verify_audit_export.py`` is an independent
implementation of the same procedure written from the document alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.audit.chain import parse_ts
from engine.audit.event import GENESIS_HASH
from engine.audit.export_format import ExportFormatError, ExportHeader
from engine.audit.export_reader import ExportEvents, read_export
from engine.audit.signing import Anchor, verify_anchor
from engine.audit.verify import ChainVerifier

__all__ = ["ExportVerifyResult", "verify_export"]

_HASH_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ExportVerifyResult:
    """What verifying an export established.

    ``count`` events verified (``first_seq``..``last_seq``, the last with hash ``last_hash``).
    ``head_seq``/``head_hash`` are the whole log's head as the header states it; ``reaches_head``
    says the export ends at that head (so the head hash, and its signature, cover every event in
    the file). ``signed`` means the header carries a valid anchor signature of that head by
    ``public_key_b64``. When not ``ok``, ``first_bad_seq`` (None for problems not tied to one event)
    and ``problem`` say what is wrong. ``notes`` are caveats that do not make the export fail.
    """

    ok: bool
    count: int
    first_seq: int | None
    last_seq: int | None
    last_hash: str | None
    head_seq: int | None
    head_hash: str | None
    reaches_head: bool
    signed: bool
    public_key_b64: str | None
    first_bad_seq: int | None
    problem: str | None
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """One line for people: ``OK: N events, head <hash> (signed by <key>)`` or the problem."""
        if not self.ok:
            problem = self.problem or ""
            named = self.first_bad_seq is None or problem.startswith(f"event {self.first_bad_seq}")
            return f"FAILED: {problem}" if named else f"FAILED: event {self.first_bad_seq}: {problem}"
        signer = f"signed by {self.public_key_b64}" if self.signed else "UNSIGNED"
        if self.head_seq is None:
            return "OK: 0 events (the log is empty)"
        if self.reaches_head:
            return f"OK: {self.count} events, head {self.head_hash} ({signer})"
        return (
            f"OK: {self.count} events (seq {self.first_seq} to {self.last_seq}, last hash {self.last_hash}); "
            f"log head {self.head_hash} at seq {self.head_seq} ({signer}) is beyond this slice"
        )


class _StopError(Exception):
    """Verification stops: ``problem`` at ``seq``."""

    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


def verify_export(
    path: Path,
    *,
    trusted_public_key: str | None = None,
    earlier_anchors: Iterable[Anchor] = (),
) -> ExportVerifyResult:
    """Verify the export at ``path`` (JSON Lines or CSV) as ``docs/audit-log.md`` specifies.

    ``trusted_public_key`` (base64), when given, must be the key that signed the export.
    ``earlier_anchors`` are anchors the reader kept from earlier exports: each must have a valid
    signature, and the events they name must still carry the hashes they signed.
    """
    try:
        header, events = read_export(path)
    except ExportFormatError as exc:
        return _failed(None, None, f"unreadable export: {exc}")
    earlier = list(earlier_anchors)
    try:
        _check_header(header, trusted_public_key)
        _check_earlier_signatures(earlier, trusted_public_key)
    except _StopError as failure:
        return _failed(header, failure.seq, failure.problem)
    return _verify_body(header, events, earlier)


def _verify_body(header: ExportHeader, events: ExportEvents, earlier: list[Anchor]) -> ExportVerifyResult:
    verifier = ChainVerifier(
        expected_prev=header.prev_hash_of_first or GENESIS_HASH, expected_first_seq=header.first_seq
    )
    pinned = {a.seq: a for a in earlier}
    last_hash: str | None = None
    try:
        for event in events:
            if not verifier.feed(event):
                break
            last_hash = event.hash
            anchor = pinned.get(event.seq)
            if anchor is not None and anchor.head_hash != event.hash:
                raise _StopError(event.seq, _rewritten(anchor))
    except ExportFormatError as exc:
        verifier.fail_at(verifier.next_seq, f"the export is damaged: {exc}")
    except _StopError as failure:
        verifier.fail_at(failure.seq, failure.problem)
    chain = verifier.result()
    if not chain.ok:
        return _failed(header, chain.first_bad_seq, chain.problem or "", count=chain.count)
    try:
        _check_totals(header, events, chain.count, chain.head_seq, last_hash)
        reaches_head = _check_head(header, last_hash)
        notes = _check_earlier_coverage(header, earlier)
    except _StopError as failure:
        return _failed(header, failure.seq, failure.problem, count=chain.count)
    if header.anchor is None:
        notes.insert(0, "the export is not signed, so its head is not anchored")
    if not reaches_head and chain.count == 0:
        notes.append(f"the export holds no events; the log's head is event {header.head_seq}")
    elif not reaches_head:
        notes.append(
            f"the export ends at event {header.last_seq} before the log's head (event {header.head_seq}): "
            "its chain is intact, but the head hash and signature do not cover it; ask for a full export"
        )
    return ExportVerifyResult(
        ok=True, count=chain.count, first_seq=header.first_seq, last_seq=chain.head_seq, last_hash=last_hash,
        head_seq=header.head_seq, head_hash=header.head_hash, reaches_head=reaches_head,
        signed=header.anchor is not None,
        public_key_b64=header.anchor.public_key_b64 if header.anchor else None,
        first_bad_seq=None, problem=None, notes=tuple(notes),
    )


def _check_header(h: ExportHeader, trusted_public_key: str | None) -> None:
    """Step 2 of the procedure: the header is self-consistent and its anchor signs its head."""
    _require_ts(h.exported_at, "exported_at")
    if h.count < 0:
        raise _StopError(None, "the header's count is negative")
    if h.count == 0:
        if h.first_seq is not None or h.last_seq is not None or h.prev_hash_of_first is not None:
            raise _StopError(None, "the header says count 0 but names a first or last event")
    else:
        if h.first_seq is None or h.first_seq < 1 or h.last_seq != h.first_seq + h.count - 1:
            raise _StopError(None, "the header's first_seq, last_seq and count disagree")
        _require_hash(h.prev_hash_of_first, "prev_hash_of_first")
        if h.first_seq == 1 and h.prev_hash_of_first != GENESIS_HASH:
            raise _StopError(1, "the export starts at event 1, but prev_hash_of_first is not 64 zeros")
        if h.head_seq is None or h.head_seq < h.last_seq:
            raise _StopError(None, "the header's head_seq is missing or before its last_seq")
    if (h.head_seq is None) != (h.head_hash is None):
        raise _StopError(None, "the header gives one of head_seq and head_hash without the other")
    if h.head_hash is not None:
        _require_hash(h.head_hash, "head_hash")
    _check_anchor(h, trusted_public_key)


def _check_anchor(h: ExportHeader, trusted_public_key: str | None) -> None:
    anchor = h.anchor
    if anchor is None:
        if trusted_public_key is not None:
            required = f"a signature by {trusted_public_key} was required"
            raise _StopError(None, f"the export is not signed, but {required}")
        return
    if anchor.seq != h.head_seq or anchor.head_hash != h.head_hash:
        raise _StopError(anchor.seq, f"the anchor signs event {anchor.seq}, not the head the header states")
    if not verify_anchor(anchor):
        raise _StopError(anchor.seq, f"the anchor's signature of event {anchor.seq} is not valid")
    if trusted_public_key is not None and anchor.public_key_b64 != trusted_public_key:
        signer = anchor.public_key_b64
        raise _StopError(anchor.seq, f"the export was signed by {signer}, not by the trusted key")


def _check_earlier_signatures(earlier: list[Anchor], trusted_public_key: str | None) -> None:
    for anchor in earlier:
        if not verify_anchor(anchor, public_key_b64=trusted_public_key):
            problem = f"the earlier anchor of event {anchor.seq} does not carry a valid signature"
            raise _StopError(anchor.seq, problem)


def _check_totals(
    h: ExportHeader, events: ExportEvents, count: int, last_seq: int | None, last_hash: str | None
) -> None:
    """Steps 4 and 5: the footer and header agree with the events actually present."""
    footer = events.footer
    if footer is None:  # ExportEvents raises before this; kept for a clear message
        raise _StopError(None, "the export has no footer record")
    if footer.count != count or footer.last_hash != last_hash:
        missing_at = (last_seq or (h.first_seq or 1) - 1) + 1
        raise _StopError(
            missing_at if footer.count > count else last_seq,
            f"the footer says {footer.count} events ending in hash {footer.last_hash}, "
            f"but the file holds {count} ending in {last_hash} (events were removed or added)",
        )
    if h.count != count or h.last_seq != last_seq:
        raise _StopError(
            (last_seq or 0) + 1 if h.count > count else last_seq,
            f"the header announces events {h.first_seq} to {h.last_seq} ({h.count}), "
            f"but the file holds {count} events",
        )


def _check_head(h: ExportHeader, last_hash: str | None) -> bool:
    """Step 6: when the export reaches the log's head, its last hash is the head hash."""
    if h.head_seq is None:
        return True  # an empty log: nothing to anchor
    if h.last_seq != h.head_seq:
        return False
    if last_hash != h.head_hash:
        problem = f"event {h.head_seq} is the head, but its hash is not the head_hash {h.head_hash}"
        raise _StopError(h.head_seq, problem)
    return True


def _check_earlier_coverage(h: ExportHeader, earlier: list[Anchor]) -> list[str]:
    """Step 8: earlier anchors beyond the head mean events were removed from the log's end."""
    notes: list[str] = []
    for anchor in earlier:
        if h.head_seq is None or anchor.seq > h.head_seq:
            raise _StopError(
                anchor.seq,
                f"an earlier anchor (signed {anchor.signed_at}) covers event {anchor.seq}, "
                f"but the log now ends at event {h.head_seq}: events were removed",
            )
        if anchor.seq == h.head_seq and anchor.head_hash != h.head_hash:
            raise _StopError(anchor.seq, _rewritten(anchor))
        first, last = h.first_seq, h.last_seq
        in_file = first is not None and last is not None and first <= anchor.seq <= last
        if not in_file and anchor.seq != h.head_seq:
            notes.append(f"the earlier anchor of event {anchor.seq} lies outside this export; not compared")
    return notes


def _rewritten(anchor: Anchor) -> str:
    return (
        f"event {anchor.seq}'s hash differs from the one signed at {anchor.signed_at}: "
        "the log was rewritten since that anchor"
    )


def _require_hash(value: str | None, name: str) -> None:
    if value is None or _HASH_RE.fullmatch(value) is None:
        raise _StopError(None, f"the header's {name} is not 64 lower-case hexadecimal digits")


def _require_ts(value: str, name: str) -> None:
    try:
        parse_ts(value)
    except ValueError:
        raise _StopError(None, f"the header's {name} is not an audit time stamp") from None


def _failed(
    header: ExportHeader | None, seq: int | None, problem: str, *, count: int = 0
) -> ExportVerifyResult:
    return ExportVerifyResult(
        ok=False, count=count,
        first_seq=header.first_seq if header else None, last_seq=None, last_hash=None,
        head_seq=header.head_seq if header else None, head_hash=header.head_hash if header else None,
        reaches_head=False, signed=False, public_key_b64=None, first_bad_seq=seq, problem=problem,
    )
