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
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from engine.audit.event import GENESIS_HASH, AuditEvent, NewAuditEvent
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
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --- detail ------------------------------------------------------------------------------------


def validate_detail(obj: object) -> None:
    """Raise ``ValueError`` unless ``obj`` is a detail the canonical encoding accepts.

    Accepted: an object (``dict`` with ``str`` keys) whose values are strings, integers with
    |n| < 2**53, booleans, null, lists/tuples and nested objects. Floats are refused because their
    text form differs between languages; so is any other type.
    """
    if not isinstance(obj, Mapping):
        raise ValueError(f"detail must be an object, not {type(obj).__name__}")
    _check_json(obj, "detail", 0, require_canonical=False)


def normalise_detail(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A validated copy of ``obj`` with NFC strings (keys too), lists for tuples and plain ints."""
    validate_detail(obj)
    result = _normalise_json(obj, "detail")
    if not isinstance(result, dict):  # validate_detail guarantees a mapping; keeps mypy informed
        raise TypeError("detail did not normalise to an object")
    return result


def _check_json(obj: object, path: str, depth: int, *, require_canonical: bool) -> None:
    """Raise ``ValueError`` naming ``path`` if ``obj`` (or anything inside it) is not allowed."""
    if depth > MAX_DETAIL_DEPTH:
        raise ValueError(f"{path} is nested more than {MAX_DETAIL_DEPTH} levels deep")
    if obj is None or isinstance(obj, bool):
        return
    if isinstance(obj, str):
        _check_text(obj, path, require_canonical=require_canonical)
    elif isinstance(obj, int):
        if not -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER:
            raise ValueError(f"{path} is an integer outside ±(2^53 - 1)")
    elif isinstance(obj, float):
        raise ValueError(f"{path} is a floating-point number; store an integer or a string instead")
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise ValueError(f"{path} has a key that is not a string: {key!r}")
            _check_text(key, f"{path} key {key!r}", require_canonical=require_canonical)
            _check_json(value, f"{path}.{key}", depth + 1, require_canonical=require_canonical)
    elif isinstance(obj, list | tuple) and not (require_canonical and isinstance(obj, tuple)):
        for index, value in enumerate(obj):
            _check_json(value, f"{path}[{index}]", depth + 1, require_canonical=require_canonical)
    else:
        raise ValueError(f"{path} has a value of type {type(obj).__name__}, which JSON detail cannot hold")


def _check_text(text: str, path: str, *, require_canonical: bool) -> None:
    if require_canonical:
        if not _is_utf8(text):
            raise ValueError(f"{path} contains a lone surrogate, which is not valid Unicode")
        if not unicodedata.is_normalized("NFC", text):
            raise ValueError(f"{path} is not in Unicode normalisation form NFC")


def _normalise_json(obj: object, path: str) -> object:
    if isinstance(obj, str):
        return _nfc(obj)
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, Mapping):
        out: dict[str, object] = {}
        for key, value in obj.items():
            nkey = _nfc(key)
            if nkey in out:
                raise ValueError(f"{path} has two keys that are equal after NFC normalisation: {nkey!r}")
            out[nkey] = _normalise_json(value, f"{path}.{nkey}")
        return out
    if isinstance(obj, list | tuple):
        return [_normalise_json(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    raise ValueError(f"{path} has a value of type {type(obj).__name__}, which JSON detail cannot hold")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nfc(text: str) -> str:
    """NFC form of ``text``, with lone surrogates (not valid Unicode) replaced by U+FFFD."""
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
        _check_fields(event)
    except ValueError as exc:
        return str(exc)
    return None


def _check_fields(e: AuditEvent) -> None:
    if not isinstance(e.seq, int) or isinstance(e.seq, bool) or not 1 <= e.seq <= MAX_SAFE_INTEGER:
        raise ValueError(f"seq {e.seq!r} is not a whole number between 1 and 2^53 - 1")
    if not isinstance(e.ts, str) or _TS_RE.fullmatch(e.ts) is None:
        raise ValueError(f"ts {e.ts!r} is not of the form YYYY-MM-DDTHH:MM:SS.ffffffZ")
    parse_ts(e.ts)  # a real calendar date and time
    for name in ("run_id", "email_ref"):
        value = getattr(e, name)
        if value is not None:
            _require_text(name, value)
    for name in ("actor", "action", "destination", "outcome"):
        _require_text(name, getattr(e, name))
    _require_actor(e.actor)
    _require_categories(e.data_categories)
    if not isinstance(e.detail, dict):
        raise ValueError(f"detail is a {type(e.detail).__name__}, not an object")
    _check_json(e.detail, "detail", 0, require_canonical=True)
    for name in ("prev_hash", "hash"):
        value = getattr(e, name)
        if not isinstance(value, str) or _HASH_RE.fullmatch(value) is None:
            raise ValueError(f"{name} {value!r} is not 64 lower-case hexadecimal digits")


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name} is a {type(value).__name__}, not a string")
    if not value:
        raise ValueError(f"{name} is an empty string")
    _check_text(value, name, require_canonical=True)


def _require_actor(actor: str) -> None:
    if actor == "system":
        return
    for prefix in _ACTOR_PREFIXES:
        if actor.startswith(prefix) and len(actor) > len(prefix):
            return
    raise ValueError(f"actor {actor!r} is not 'system', 'user:<name>' or 'provider:<name>'")


def _require_categories(categories: object) -> None:
    if not isinstance(categories, tuple | list):
        raise ValueError("data_categories is not a list")
    previous: str | None = None
    for item in categories:
        _require_text("a data category", item)
        if previous is not None and not previous < item:
            raise ValueError("data_categories are not sorted and unique")
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
        raise ValueError(f"unknown data categories {unknown}; see engine.categories.DataCategory")
    draft = AuditEvent(
        seq=seq,
        ts=format_ts(ts),
        run_id=_nfc(new.run_id) if new.run_id else None,
        email_ref=_nfc(new.email_ref) if new.email_ref else None,
        actor=_nfc(new.actor),
        action=_nfc(new.action),
        data_categories=categories,
        destination=_nfc(new.destination),
        outcome=_nfc(new.outcome),
        detail=normalise_detail(new.detail),
        prev_hash=prev_hash,
        hash=GENESIS_HASH,  # placeholder of the right shape, replaced below
    )
    problem = field_problem(draft)
    if problem is not None:
        raise ValueError(f"cannot record audit event {new.action!r}: {problem}")
    return replace(draft, hash=hash_of(draft))
