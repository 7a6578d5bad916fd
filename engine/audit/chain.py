"""The canonical encoding of an audit event, its hash, and sealing a new event into the chain.

The encoding is specified byte by byte for outsiders in ``docs/audit-log.md``; this module is
the reference implementation. In short: the UTF-8 bytes of the JSON object

    {"v":1, "seq", "ts", "run_id", "email_ref", "actor", "action", "data_categories",
     "destination", "outcome", "detail", "prev_hash"}

with keys sorted by code point at every level, no whitespace, non-ASCII characters written as
themselves, and only ``"``, ``\\`` and U+0000..U+001F escaped (the way Python's ``json`` does with
``ensure_ascii=False``). The event's hash is the lower-case hex SHA-256 of those bytes.

:func:`seal` normalises what a step hands over (NFC strings, sorted unique data categories, empty
references as null, plain lists and ints in ``detail``) so that the values stored and exported are
exactly the values hashed; a verifier encodes the values as given.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.audit.event import GENESIS_HASH, SYSTEM_ACTOR, AuditEvent, NewAuditEvent
from engine.categories import DataCategory

__all__ = [
    "CANONICAL_VERSION",
    "GENESIS_HASH",
    "MAX_SAFE_INTEGER",
    "canonical_bytes",
    "event_canonical_bytes",
    "event_hash",
    "field_problem",
    "format_ts",
    "hash_of",
    "normalise_detail",
    "parse_ts",
    "seal",
    "validate_detail",
]

#: The ``v`` member of the canonical object; changes only if the encoding itself changes.
CANONICAL_VERSION = 1

#: Largest integer magnitude allowed anywhere in an event (|n| < 2**53, exact in every JSON parser).
MAX_SAFE_INTEGER = 2**53 - 1

#: Nesting limit for ``detail`` enforced when sealing (a writer rule; verifiers need not check it).
MAX_DETAIL_DEPTH = 32

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_TS_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_ACTOR_PREFIXES = ("user:", "provider:")
_KNOWN_DATA_CATEGORIES = frozenset(c.value for c in DataCategory)

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


# --- Time stamps -------------------------------------------------------------------------------


def format_ts(dt: datetime) -> str:
    """RFC 3339 UTC with exactly six fractional digits and ``Z``: ``2026-11-30T18:04:05.123456Z``.

    ``dt`` must be timezone-aware (a naive datetime is ambiguous and raises ``ValueError``).
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("audit time stamps need a timezone-aware datetime")
    u = dt.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


def parse_ts(text: str) -> datetime:
    """The aware UTC datetime of a time stamp in the exact :func:`format_ts` form, else ``ValueError``."""
    if not isinstance(text, str) or _TS_RE.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date and time") from None


# --- detail ------------------------------------------------------------------------------------


def validate_detail(obj: object) -> None:
    """Raise ``ValueError`` unless ``obj`` is a detail the canonical encoding accepts.

    Accepted: an object (``dict`` with ``str`` keys) whose values are strings, integers with
    |n| < 2**53, booleans, null, lists/tuples and nested objects, at most 32 levels deep. Floats are
    refused because their text form differs between languages; so is any other type.
    """
    normalise_detail(obj)


def normalise_detail(obj: object) -> dict[str, Any]:
    """A validated copy of ``obj`` with NFC strings (keys too), lists for tuples and plain ints.

    Raises ``ValueError`` as :func:`validate_detail` describes, or when two keys of one object are
    equal after NFC normalisation.
    """
    if not isinstance(obj, Mapping):
        raise ValueError(f"detail must be an object, not {type(obj).__name__}")
    try:
        result = _normalise_json(obj, 0)
    except _PathError as exc:
        raise ValueError(exc.describe()) from None
    if not isinstance(result, dict):  # a Mapping always normalises to a dict; this informs mypy
        raise TypeError("detail did not normalise to an object")
    return result


class _PathError(Exception):
    """A problem deep inside ``detail``; the path is filled in while the error unwinds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.parts: list[str] = []

    def describe(self) -> str:
        return f"detail{''.join(reversed(self.parts))} {self.message}"


def _normalise_json(obj: object, depth: int) -> object:
    if isinstance(obj, str):
        return _nfc(obj)
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        if not -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER:
            raise _PathError("is an integer outside ±(2^53 - 1)")
        return int(obj)
    if isinstance(obj, float):
        raise _PathError("is a floating-point number; store an integer or a string instead")
    if depth >= MAX_DETAIL_DEPTH:
        raise _PathError(f"is nested more than {MAX_DETAIL_DEPTH} levels deep")
    if isinstance(obj, Mapping):
        return _normalise_object(obj, depth)
    if isinstance(obj, list | tuple):
        return _normalise_array(obj, depth)
    raise _PathError(f"has a value of type {type(obj).__name__}, which JSON detail cannot hold")


def _normalise_object(obj: Mapping[object, object], depth: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise _PathError(f"has a key that is not a string: {key!r}")
        nkey = _nfc(key)
        if nkey in out:
            raise _PathError(f"has two keys that are equal after NFC normalisation: {nkey!r}")
        try:
            out[nkey] = _normalise_json(value, depth + 1)
        except _PathError as exc:
            exc.parts.append(f".{nkey}")
            raise
    return out


def _normalise_array(obj: list[object] | tuple[object, ...], depth: int) -> list[object]:
    items: list[object] = []
    for index, value in enumerate(obj):
        try:
            items.append(_normalise_json(value, depth + 1))
        except _PathError as exc:
            exc.parts.append(f"[{index}]")
            raise
    return items


def _check_canonical_json(obj: object) -> None:
    """Raise ``_PathError`` unless ``obj`` is already canonical JSON detail (exact JSON types)."""
    kind = type(obj)
    if kind is str:
        if not obj.isascii():  # type: ignore[attr-defined]
            _check_canonical_text(obj)  # type: ignore[arg-type]
    elif kind is int:
        if not -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER:  # type: ignore[operator]
            raise _PathError("is an integer outside ±(2^53 - 1)")
    elif kind is dict:
        _check_canonical_object(obj)  # type: ignore[arg-type]
    elif kind is list:
        _check_canonical_array(obj)  # type: ignore[arg-type]
    elif obj is None or kind is bool:
        return
    elif kind is float:
        raise _PathError("is a floating-point number, which the canonical encoding does not allow")
    else:
        raise _PathError(f"has a value of type {kind.__name__}, which is not JSON")


def _check_canonical_object(obj: dict[object, object]) -> None:
    for key, value in obj.items():
        if type(key) is not str:
            raise _PathError(f"has a key that is not a string: {key!r}")
        try:
            if not key.isascii():
                _check_canonical_text(key)
            _check_canonical_json(value)
        except _PathError as exc:
            exc.parts.append(f".{key}")
            raise


def _check_canonical_array(obj: list[object]) -> None:
    for index, value in enumerate(obj):
        try:
            _check_canonical_json(value)
        except _PathError as exc:
            exc.parts.append(f"[{index}]")
            raise


def _check_canonical_text(text: str) -> None:
    if not _is_utf8(text):
        raise _PathError("contains a lone surrogate, which is not valid Unicode")
    if not unicodedata.is_normalized("NFC", text):
        raise _PathError("is not in Unicode normalisation form NFC")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nfc(text: str) -> str:
    """NFC form of ``text`` as a plain ``str``, lone surrogates (not valid Unicode) replaced by U+FFFD."""
    if text.isascii():
        return str(text)
    if not _is_utf8(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return unicodedata.normalize("NFC", str(text))


# --- Field rules -------------------------------------------------------------------------------


def field_problem(event: AuditEvent) -> str | None:
    """A plain-English description of the first field of ``event`` not in canonical form, or None.

    These are the rules of ``docs/audit-log.md`` ("Field rules"): they make the encoding of the
    stored values unambiguous, so a verifier can hash the values exactly as given.
    """
    try:
        _check_scalar_fields(event)
        if type(event.detail) is not dict:
            raise ValueError(f"detail is a {type(event.detail).__name__}, not an object")
        _check_canonical_json(event.detail)
    except _PathError as exc:
        return exc.describe()
    except ValueError as exc:
        return str(exc)
    return None


def _check_scalar_fields(e: AuditEvent) -> None:
    """Raise ``ValueError`` for the first field other than ``detail`` that breaks a field rule."""
    seq = e.seq
    if type(seq) is not int or not 1 <= seq <= MAX_SAFE_INTEGER:
        raise ValueError(f"seq {seq!r} is not a whole number between 1 and 2^53 - 1")
    ts = e.ts
    if type(ts) is not str or _TS_RE.fullmatch(ts) is None:
        raise ValueError(f"ts {ts!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        datetime.fromisoformat(ts[:-1])
    except ValueError:
        raise ValueError(f"ts {ts!r} is not a real date and time") from None
    if e.run_id is not None:
        _require_text("run_id", e.run_id)
    if e.email_ref is not None:
        _require_text("email_ref", e.email_ref)
    _require_text("actor", e.actor)
    _require_text("action", e.action)
    _require_text("destination", e.destination)
    _require_text("outcome", e.outcome)
    _require_actor(e.actor)
    _require_categories(e.data_categories)
    for name, value in (("prev_hash", e.prev_hash), ("hash", e.hash)):
        if type(value) is not str or _HASH_RE.fullmatch(value) is None:
            raise ValueError(f"{name} {value!r} is not 64 lower-case hexadecimal digits")


def _require_text(name: str, value: object) -> None:
    if type(value) is not str:
        raise ValueError(f"{name} is a {type(value).__name__}, not a string")
    if not value:
        raise ValueError(f"{name} is an empty string")
    if not value.isascii():
        try:
            _check_canonical_text(value)
        except _PathError as exc:
            raise ValueError(f"{name} {exc.message}") from None


def _require_actor(actor: str) -> None:
    if actor == SYSTEM_ACTOR:
        return
    for prefix in _ACTOR_PREFIXES:
        if actor.startswith(prefix) and len(actor) > len(prefix):
            return
    raise ValueError(f"actor {actor!r} is not 'system', 'user:<name>' or 'provider:<name>'")


def _require_categories(categories: object) -> None:
    if type(categories) is not tuple and type(categories) is not list:
        raise ValueError("data_categories is not a list")
    previous: str | None = None
    for item in categories:
        _require_text("a data category", item)
        if previous is not None and not previous < item:
            raise ValueError("data_categories are not sorted by code point and free of repeats")
        previous = item


# --- Encoding and hashing ----------------------------------------------------------------------


def canonical_bytes(
    *,
    seq: int,
    ts: str,
    run_id: str | None,
    email_ref: str | None,
    actor: str,
    action: str,
    data_categories: Iterable[str],
    destination: str,
    outcome: str,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> bytes:
    """The canonical encoding of one event's fields (everything except its own hash).

    Strings are NFC-normalised, ``data_categories`` sorted and de-duplicated and ``detail``
    validated (``ValueError`` on floats and other non-JSON values) before encoding.
    """
    categories = sorted({_nfc(c) for c in data_categories})
    return _encode(
        seq=seq,
        ts=ts,
        run_id=None if run_id is None else _nfc(run_id),
        email_ref=None if email_ref is None else _nfc(email_ref),
        actor=_nfc(actor),
        action=_nfc(action),
        data_categories=categories,
        destination=_nfc(destination),
        outcome=_nfc(outcome),
        detail=normalise_detail(detail),
        prev_hash=prev_hash,
    )


def event_hash(**fields: Any) -> str:
    """Lower-case hex SHA-256 of :func:`canonical_bytes` of the same keyword arguments."""
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()


def event_canonical_bytes(event: AuditEvent) -> bytes:
    """The canonical encoding of a stored event's values exactly as given (no normalisation).

    Use :func:`field_problem` first: for an event not in canonical form this raises ``ValueError``
    (e.g. a lone surrogate) or encodes something a verifier would reject.
    """
    return _encode(
        seq=event.seq,
        ts=event.ts,
        run_id=event.run_id,
        email_ref=event.email_ref,
        actor=event.actor,
        action=event.action,
        data_categories=list(event.data_categories),
        destination=event.destination,
        outcome=event.outcome,
        detail=event.detail,
        prev_hash=event.prev_hash,
    )


def hash_of(event: AuditEvent) -> str:
    """The hash a stored event should carry, recomputed from its other fields as given."""
    return hashlib.sha256(event_canonical_bytes(event)).hexdigest()


def _encode(**fields: Any) -> bytes:
    fields["v"] = CANONICAL_VERSION
    try:
        return _ENCODER.encode(fields).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("an audit field contains a lone surrogate, which is not valid Unicode") from exc


# --- Sealing -----------------------------------------------------------------------------------


def seal(new: NewAuditEvent, *, seq: int, ts: datetime, prev_hash: str) -> AuditEvent:
    """Chain ``new`` after the event whose hash is ``prev_hash``, as number ``seq`` at time ``ts``.

    Normalises the fields (see the module docstring; an empty ``run_id``/``email_ref`` becomes
    null) and raises ``ValueError`` when the result breaks a field rule: an empty actor, action,
    destination or outcome, an actor not of the form ``system``/``user:<name>``/``provider:<name>``,
    a data category outside :class:`engine.categories.DataCategory`, a float in ``detail``, or a
    malformed ``prev_hash``.
    """
    categories = tuple(sorted({_nfc(str(c)) for c in new.data_categories}))
    unknown = [c for c in categories if c not in _KNOWN_DATA_CATEGORIES]
    if unknown:
        raise ValueError(f"cannot record audit event {new.action!r}: unknown data categories {unknown}")
    fields: dict[str, Any] = {
        "seq": seq,
        "ts": format_ts(ts),
        "run_id": _nfc(new.run_id) if new.run_id else None,
        "email_ref": _nfc(new.email_ref) if new.email_ref else None,
        "actor": _nfc(new.actor),
        "action": _nfc(new.action),
        "data_categories": categories,
        "destination": _nfc(new.destination),
        "outcome": _nfc(new.outcome),
        "prev_hash": prev_hash,
    }
    try:
        fields["detail"] = normalise_detail(new.detail)
    except ValueError as exc:
        raise ValueError(f"cannot record audit event {new.action!r}: {exc}") from None
    draft = AuditEvent(**fields, hash=GENESIS_HASH)
    try:
        _check_scalar_fields(draft)
    except ValueError as exc:
        raise ValueError(f"cannot record audit event {new.action!r}: {exc}") from None
    return AuditEvent(**fields, hash=hash_of(draft))
