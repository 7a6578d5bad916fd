#!/usr/bin/env python3
"""Verify an Inbox Triage audit export, independently of the app.

Written from ``docs/audit-log.md`` alone (section numbers below refer to it): it imports nothing
from the app, only the Python standard library (3.11 or newer) and the ``cryptography`` package for
Ed25519. Usage::

    python tools/verify_audit_export.py EXPORT_FILE [--public-key KEY] [--earlier EARLIER_EXPORT ...]

Prints ``OK: N events, head <hash> (signed by <public key>)`` and exits 0, or
``FAILED: event <seq>: <problem>`` and exits 1.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import datetime
import hashlib
import itertools
import json
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
MAX_INT = 2**53 - 1
EVENT_FIELDS = ("seq", "ts", "run_id", "email_ref", "actor", "action", "data_categories",
                "destination", "outcome", "detail", "prev_hash", "hash")
CSV_COLUMNS = ("record_type", *EVENT_FIELDS, "meta")
HEX64 = re.compile(r"[0-9a-f]{64}")
TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z")
BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
DECIMAL = re.compile(r"[1-9][0-9]*")


class Failed(Exception):  # noqa: N818 - the name reads as the verdict
    """Verification stops here: ``problem`` at event ``seq`` (None when no single event is to blame)."""

    def __init__(self, seq: int | None, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


# --- §3 canonical encoding ---------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def canonical(value: Any) -> str:
    """The canonical JSON text of ``value`` (§3): sorted keys, no whitespace, minimal escapes."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'
    if type(value) is list:
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if type(value) is dict:
        # Python compares str by code point, which is the order §3 asks for.
        return "{" + ",".join(canonical(k) + ":" + canonical(value[k]) for k in sorted(value)) + "}"
    raise ValueError(f"{type(value).__name__} cannot be canonically encoded")


def event_hash(event: dict[str, Any]) -> str:
    """§4: SHA-256 of the canonical bytes of the event's eleven fields plus ``"v": 1``."""
    obj = {name: event[name] for name in EVENT_FIELDS if name != "hash"}
    obj["v"] = 1
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


# --- §2 field rules ----------------------------------------------------------------------------


def is_timestamp(value: object) -> bool:
    """Rule 2: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` naming a real date and time."""
    if type(value) is not str:
        return False
    match = TS.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second, micro = (int(g) for g in match.groups())
    try:
        datetime.datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return False
    return True


def check_text(value: object, name: str, *, nullable: bool = False) -> None:
    """Rules 3, 4 and 8 for one string field."""
    if value is None and nullable:
        return
    if type(value) is not str:
        raise ValueError(f"{name} is not a string")
    if value == "":
        raise ValueError(f"{name} is an empty string")
    check_unicode(value, name)


def check_unicode(value: str, name: str) -> None:
    """Rule 8: valid Unicode, NFC."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} contains an unpaired surrogate") from None
    if not unicodedata.is_normalized("NFC", value):
        raise ValueError(f"{name} is not in NFC")


def check_detail(value: object, where: str) -> None:
    """Rules 6 and 8 inside ``detail``."""
    kind = type(value)
    if value is None or kind is bool:
        return
    if kind is str:
        check_unicode(value, where)  # type: ignore[arg-type]
    elif kind is int:
        if abs(value) > MAX_INT:  # type: ignore[arg-type]
            raise ValueError(f"{where} is an integer beyond 2^53 - 1")
    elif kind is list:
        for index, item in enumerate(value):  # type: ignore[arg-type]
            check_detail(item, f"{where}[{index}]")
    elif kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            check_unicode(key, f"a key in {where}")
            check_detail(item, f"{where}.{key}")
    else:
        raise ValueError(f"{where} is a {kind.__name__} (numbers must be integers)")


def check_rules(event: dict[str, Any]) -> None:
    """§2, rules 1 to 8; raises ValueError naming the first rule broken."""
    seq = event["seq"]
    if type(seq) is not int or not 1 <= seq <= MAX_INT:
        raise ValueError("seq is not an integer from 1 to 2^53 - 1")
    if not is_timestamp(event["ts"]):
        raise ValueError(f"ts {event['ts']!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    check_text(event["run_id"], "run_id", nullable=True)
    check_text(event["email_ref"], "email_ref", nullable=True)
    for name in ("actor", "action", "destination", "outcome"):
        check_text(event[name], name)
    actor = event["actor"]
    if not (actor == "system" or re.fullmatch(r"(user|provider):.+", actor, re.DOTALL)):
        raise ValueError(f"actor {actor!r} is not system, user:<name> or provider:<name>")
    categories = event["data_categories"]
    if type(categories) is not list:
        raise ValueError("data_categories is not an array")
    for item in categories:
        check_text(item, "a data category")
    if any(a >= b for a, b in itertools.pairwise(categories)):
        raise ValueError("data_categories are not in strictly ascending order")
    if type(event["detail"]) is not dict:
        raise ValueError("detail is not an object")
    check_detail(event["detail"], "detail")
    for name in ("prev_hash", "hash"):
        if type(event[name]) is not str or not HEX64.fullmatch(event[name]):
            raise ValueError(f"{name} is not 64 lower-case hex digits")


# --- §6 anchors --------------------------------------------------------------------------------


def b64(text: object, size: int) -> bytes | None:
    """Standard base64 with padding decoding to exactly ``size`` bytes, else None."""
    if type(text) is not str or not BASE64.fullmatch(text):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def anchor_valid(anchor: dict[str, Any]) -> bool:
    """Whether the anchor's Ed25519 signature of its message verifies with its own public key."""
    seq, head, signed_at = anchor.get("seq"), anchor.get("head_hash"), anchor.get("signed_at")
    if type(seq) is not int or seq < 1 or type(head) is not str or not HEX64.fullmatch(head):
        return False
    if not is_timestamp(signed_at):
        return False
    key, signature = b64(anchor.get("public_key"), 32), b64(anchor.get("signature"), 64)
    if key is None or signature is None:
        return False
    message = f"inbox-triage-audit-anchor:v1:{seq}:{head}:{signed_at}".encode("ascii")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- §7 reading records ------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a member appears twice in one object")
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def parse_json(text: str, where: str) -> Any:
    """Strict JSON: no repeated members, no NaN/Infinity."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except ValueError as exc:
        raise Failed(None, f"{where}: not valid JSON ({exc})") from None


def records(path: Path) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Yield (record type, members, location) for every record of the file (§7.1, §7.2)."""
    with path.open("rb") as handle:
        start = handle.read(64)
    if start.startswith(b"{"):
        yield from jsonl_records(path)
    elif start.removeprefix(b"\xef\xbb\xbf").startswith(b"record_type,"):
        yield from csv_records(path)
    else:
        raise Failed(None, "the file is neither a JSON Lines nor a CSV audit export")


def jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any], str]]:
    """§7.1: one JSON object per LF-terminated line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"line {number}"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Failed(None, f"{where}: not UTF-8") from None
            obj = parse_json(text, where)
            if type(obj) is not dict:
                raise Failed(None, f"{where}: not a JSON object")
            kind = obj.pop("type", None)
            if kind == "event" and set(obj) != set(EVENT_FIELDS):
                raise Failed(obj.get("seq") if type(obj.get("seq")) is int else None,
                             f"{where}: an event record must have exactly the twelve event fields")
            yield str(kind), obj, where


def csv_records(path: Path) -> Iterator[tuple[str, dict[str, Any], str]]:
    """§7.2: RFC 4180 rows; header and footer in ``meta``; events in their columns."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle, strict=True)
        try:
            if tuple(next(rows, ())) != CSV_COLUMNS:
                raise Failed(None, "line 1: the first row does not name the fourteen columns")
            for row in rows:
                where = f"line {rows.line_num}"
                if len(row) != len(CSV_COLUMNS):
                    raise Failed(None, f"{where}: a row does not have fourteen fields")
                yield csv_record(row, where)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise Failed(None, f"line {rows.line_num}: not a valid UTF-8 CSV file ({exc})") from None


def csv_record(row: list[str], where: str) -> tuple[str, dict[str, Any], str]:
    """One CSV row as (record type, members, location)."""
    kind, cells, meta = row[0], dict(zip(EVENT_FIELDS, row[1:-1], strict=True)), row[-1]
    if kind in ("header", "footer"):
        if any(cells.values()):
            raise Failed(None, f"{where}: a {kind} row may only fill record_type and meta")
        obj = parse_json(meta, where)
        if type(obj) is not dict:
            raise Failed(None, f"{where}: meta is not a JSON object")
        return kind, obj, where
    if kind != "event":
        return kind, {}, where
    if meta:
        raise Failed(None, f"{where}: an event row has a non-empty meta field")
    if not DECIMAL.fullmatch(cells["seq"]):
        raise Failed(None, f"{where}: seq {cells['seq']!r} is not a decimal number")
    event: dict[str, Any] = dict(cells)
    event["seq"] = int(cells["seq"])
    event["run_id"] = cells["run_id"] or None
    event["email_ref"] = cells["email_ref"] or None
    event["data_categories"] = parse_json(cells["data_categories"], where)
    event["detail"] = parse_json(cells["detail"], where)
    return kind, event, where


# --- §8 the procedure --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a verification established."""

    count: int
    first_seq: int | None
    last_seq: int | None
    last_hash: str | None
    header: dict[str, Any]
    reaches_head: bool


def read_header(stream: Iterator[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    """§8 step 2."""
    try:
        kind, header, where = next(stream)
    except StopIteration:
        raise Failed(None, "the file has no records") from None
    if kind != "header":
        raise Failed(None, f"{where}: the first record is not the header")
    if header.get("format") != "inbox-triage-audit-export" or header.get("format_version") != 1:
        raise Failed(None, "the header does not announce format inbox-triage-audit-export, version 1")
    needed = ("exported_at", "first_seq", "last_seq", "count", "prev_hash_of_first", "head_seq",
              "head_hash", "anchor")
    missing = [name for name in needed if name not in header]
    if missing:
        raise Failed(None, f"the header lacks {', '.join(missing)}")
    if not is_timestamp(header["exported_at"]):
        raise Failed(None, "the header's exported_at is not a time stamp")
    first, last, count = header["first_seq"], header["last_seq"], header["count"]
    prev = header["prev_hash_of_first"]
    head_seq, head_hash = header["head_seq"], header["head_hash"]
    if type(count) is not int or count < 0:
        raise Failed(None, "the header's count is not a non-negative integer")
    if count == 0:
        if first is not None or last is not None or prev is not None:
            raise Failed(None, "the header has count 0 but names events")
    else:
        if type(first) is not int or first < 1 or type(last) is not int or last != first + count - 1:
            raise Failed(None, "the header's first_seq, last_seq and count do not agree")
        if type(prev) is not str or not HEX64.fullmatch(prev) or (first == 1 and prev != GENESIS):
            raise Failed(None, "the header's prev_hash_of_first is wrong")
        if type(head_seq) is not int or head_seq < last:
            raise Failed(None, "the header's head_seq is missing or before last_seq")
    if (head_seq is None) != (head_hash is None):
        raise Failed(None, "the header has only one of head_seq and head_hash")
    if head_hash is not None and (type(head_hash) is not str or not HEX64.fullmatch(head_hash)):
        raise Failed(None, "the header's head_hash is not 64 lower-case hex digits")
    return header


def check_anchor(header: dict[str, Any], public_key: str | None) -> None:
    """§8 steps 3 and 4."""
    anchor = header["anchor"]
    if anchor is None:
        if public_key is not None:
            raise Failed(None, f"the export is unsigned, but a signature by {public_key} was required")
        return
    if type(anchor) is not dict:
        raise Failed(None, "the header's anchor is not an object")
    seq = anchor.get("seq") if type(anchor.get("seq")) is int else None
    if seq != header["head_seq"] or anchor.get("head_hash") != header["head_hash"]:
        raise Failed(seq, "the anchor does not sign the head the header states")
    if not anchor_valid(anchor):
        raise Failed(seq, f"the anchor's signature of event {seq} does not verify")
    if public_key is not None and anchor.get("public_key") != public_key:
        raise Failed(seq, f"the export was signed by {anchor.get('public_key')}, not by {public_key}")


def walk_events(stream: Iterator[tuple[str, dict[str, Any], str]], header: dict[str, Any],
                pinned: dict[int, dict[str, Any]]) -> tuple[int, int | None, str | None, dict[str, Any]]:
    """§8 step 5 (and step 8 for events in the file); returns count, last seq, last hash, footer."""
    expected_seq = header["first_seq"]
    expected_prev = header["prev_hash_of_first"]
    count, last_seq, last_hash = 0, None, None
    for kind, record, where in stream:
        if kind == "footer":
            for _extra_kind, _extra, extra_where in stream:
                raise Failed(None, f"{extra_where}: a record follows the footer")
            return count, last_seq, last_hash, record
        if kind != "event":
            raise Failed(expected_seq, f"{where}: a {kind!r} record where an event or the footer belongs")
        seq = record["seq"]
        if expected_seq is None:
            raise Failed(seq, f"{where}: the header announces no events, but the file has event records")
        if seq != expected_seq:
            if type(seq) is int and seq > expected_seq:
                raise Failed(expected_seq, f"event {expected_seq} is missing: event {seq} comes in its place")
            found = f"expected event {expected_seq}, found {seq!r}"
            raise Failed(expected_seq, f"{found} (an event was inserted, repeated or moved)")
        try:
            check_rules(record)
        except ValueError as exc:
            raise Failed(seq, f"breaks the field rules: {exc}") from None
        if record["prev_hash"] != expected_prev:
            raise Failed(seq, "its prev_hash is not the previous event's hash (the chain is broken here)")
        recomputed = event_hash(record)
        if recomputed != record["hash"]:
            raise Failed(seq, f"its contents hash to {recomputed}, not to its recorded hash {record['hash']}")
        anchor = pinned.get(seq)
        if anchor is not None and anchor["head_hash"] != recomputed:
            signed = anchor["signed_at"]
            raise Failed(seq, f"its hash differs from the one signed at {signed} (history rewritten)")
        count, last_seq, last_hash = count + 1, seq, recomputed
        expected_seq, expected_prev = seq + 1, recomputed
    raise Failed(expected_seq, "the file ends without a footer (it was cut short)")


def verify(path: Path, public_key: str | None, earlier: list[dict[str, Any]]) -> Outcome:
    """Run §8 steps 1 to 8 on ``path``; raise Failed at the first problem."""
    stream = records(path)
    header = read_header(stream)
    check_anchor(header, public_key)
    for anchor in earlier:
        if not anchor_valid(anchor) or (public_key is not None and anchor.get("public_key") != public_key):
            raise Failed(anchor.get("seq"), "an earlier anchor's signature does not verify")
    pinned = {anchor["seq"]: anchor for anchor in earlier}
    count, last_seq, last_hash, footer = walk_events(stream, header, pinned)
    if footer.get("count") != count or footer.get("last_hash") != last_hash:
        short = type(footer.get("count")) is int and footer["count"] > count
        missing = (last_seq or (header["first_seq"] or 1) - 1) + 1
        raise Failed(missing if short else last_seq,
                     f"the footer says {footer.get('count')} events ending in {footer.get('last_hash')}, "
                     f"but the file holds {count} ending in {last_hash}")
    if header["count"] != count or header["last_seq"] != last_seq:
        announced = f"the header announces {header['count']} events"
        raise Failed((last_seq or 0) + 1, f"{announced}, but the file holds {count}")
    head_seq, head_hash = header["head_seq"], header["head_hash"]
    reaches_head = head_seq is None or last_seq == head_seq
    if head_seq is not None and last_seq == head_seq and last_hash != head_hash:
        raise Failed(head_seq, "the last event is the head, but its hash is not the header's head_hash")
    for anchor in earlier:
        if head_seq is None or anchor["seq"] > head_seq:
            raise Failed(anchor["seq"], f"an earlier anchor covers event {anchor['seq']}, "
                                        f"but the log now ends at {head_seq}: events were removed")
        if anchor["seq"] == head_seq and anchor["head_hash"] != head_hash:
            raise Failed(head_seq, "the head's hash differs from an earlier anchor of it (history rewritten)")
    return Outcome(count, header["first_seq"], last_seq, last_hash, header, reaches_head)


def earlier_anchor(path: Path) -> dict[str, Any]:
    """The anchor in the header of an earlier export."""
    header = read_header(records(path))
    if type(header["anchor"]) is not dict:
        raise Failed(None, f"the earlier export {path} is not signed")
    return header["anchor"]


def report(outcome: Outcome) -> list[str]:
    """The lines printed for a verified export."""
    header, anchor = outcome.header, outcome.header["anchor"]
    signer = f"signed by {anchor['public_key']}" if anchor else "UNSIGNED: the head is not anchored"
    if header["head_seq"] is None:
        return ["OK: 0 events (the log is empty)"]
    if outcome.reaches_head:
        return [f"OK: {outcome.count} events, head {header['head_hash']} ({signer})"]
    return [
        f"OK: {outcome.count} events (seq {outcome.first_seq} to {outcome.last_seq}, "
        f"last hash {outcome.last_hash})",
        f"note: the log's head is event {header['head_seq']}, hash {header['head_hash']} ({signer}); "
        "this slice ends before it, so the head and its signature do not cover it",
    ]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: exit 0 when the export verifies, 1 when it does not."""
    parser = argparse.ArgumentParser(description="Verify an Inbox Triage audit export (docs/audit-log.md).")
    parser.add_argument("export", type=Path, help="the .jsonl or .csv export to verify")
    parser.add_argument("--public-key", help="require the export to be signed by this base64 Ed25519 key")
    parser.add_argument("--earlier", type=Path, action="append", default=[],
                        help="an earlier export whose anchor this one must agree with (repeatable)")
    args = parser.parse_args(argv)
    try:
        earlier = [earlier_anchor(p) for p in args.earlier]
        outcome = verify(args.export, args.public_key, earlier)
    except Failed as failure:
        where = f"event {failure.seq}: " if failure.seq is not None else ""
        print(f"FAILED: {where}{failure.problem}")
        return 1
    except OSError as exc:
        print(f"FAILED: cannot read {exc.filename}: {exc.strerror}")
        return 1
    for line in report(outcome):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
