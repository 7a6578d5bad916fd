"""The canonical encoding, the event hash and sealing."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.audit.chain import (
    MAX_SAFE_INTEGER,
    canonical_bytes,
    event_canonical_bytes,
    event_hash,
    field_problem,
    format_ts,
    hash_of,
    normalise_detail,
    parse_ts,
    seal,
    validate_detail,
)
from engine.audit.event import GENESIS_HASH, AuditEvent, NewAuditEvent
from tests.engine.audit.helpers import build_chain, load_tool

T0 = datetime(2026, 11, 30, 18, 4, 5, 123456, tzinfo=UTC)


def _fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "seq": 1, "ts": "2026-11-30T18:04:05.123456Z", "run_id": None, "email_ref": None, "actor": "system",
        "action": "a.b", "data_categories": [], "destination": "local", "outcome": "ok", "detail": {},
        "prev_hash": GENESIS_HASH,
    }
    base.update(overrides)
    return base


def _sealed(**kwargs: Any) -> AuditEvent:
    kwargs.setdefault("action", "test.event")
    kwargs.setdefault("outcome", "ok")
    return seal(NewAuditEvent(**kwargs), seq=1, ts=T0, prev_hash=GENESIS_HASH)


# --- time stamps ---


def test_format_ts_is_utc_with_microseconds_and_z() -> None:
    assert format_ts(T0) == "2026-11-30T18:04:05.123456Z"
    assert format_ts(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    plus_one = timezone(timedelta(hours=1))
    assert format_ts(datetime(2026, 6, 1, 0, 30, tzinfo=plus_one)) == "2026-05-31T23:30:00.000000Z"
    assert format_ts(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"


def test_format_ts_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_ts(datetime(2026, 11, 30, 9, 0))


@pytest.mark.parametrize("text", [
    "2026-11-30T18:04:05.123Z", "2026-11-30T18:04:05.123456+00:00", "2026-11-30 18:04:05.123456Z",
    "2026-02-30T18:04:05.123456Z", "2026-11-30T24:00:00.000000Z", "2026-11-30T18:04:05.123456z",
])
def test_parse_ts_accepts_only_the_exact_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"not of the form|not a real date"):
        parse_ts(text)


def test_parse_ts_round_trips() -> None:
    assert parse_ts(format_ts(T0)) == T0


# --- the encoding, byte by byte ---


def test_canonical_bytes_sorts_keys_and_has_no_whitespace() -> None:
    data = canonical_bytes(**_fields(detail={"b": 1, "a": [True, None, -5], "A": {"z": 0, "y": "x"}}))
    assert data == (
        b'{"action":"a.b","actor":"system","data_categories":[],"destination":"local",'
        b'"detail":{"A":{"y":"x","z":0},"a":[true,null,-5],"b":1},"email_ref":null,"outcome":"ok",'
        b'"prev_hash":"' + GENESIS_HASH.encode() + b'","run_id":null,"seq":1,'
        b'"ts":"2026-11-30T18:04:05.123456Z","v":1}'
    )


def test_string_escapes_are_exactly_the_documented_ones() -> None:
    every_control = "".join(chr(c) for c in range(0x20))
    text = every_control + '"\\/\x7f\u2028é😀'
    data = canonical_bytes(**_fields(detail={"s": text}))
    inner = data.split(b'"detail":{"s":"', 1)[1].split(b'"},"email_ref"', 1)[0]
    expected = (
        "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
        "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
        '\\u001e\\u001f\\"\\\\/\x7f\u2028é😀'
    ).encode("utf-8")
    assert inner == expected


def test_keys_sort_by_code_point_not_utf16() -> None:
    # U+E000 < U+1F600 by code point; in UTF-16 the surrogate D83D would sort before E000.
    data = canonical_bytes(**_fields(detail={"😀": 1, "\ue000": 2, "z": 3, "Z": 4}))
    assert b'"detail":{"Z":4,"z":3,"\xee\x80\x80":2,"\xf0\x9f\x98\x80":1}' in data


def test_integers_at_the_limit_are_written_plainly() -> None:
    data = canonical_bytes(**_fields(detail={"max": MAX_SAFE_INTEGER, "min": -MAX_SAFE_INTEGER, "zero": 0}))
    assert b'{"max":9007199254740991,"min":-9007199254740991,"zero":0}' in data


def test_event_hash_is_sha256_hex_of_canonical_bytes() -> None:
    fields = _fields(run_id="7", detail={"x": "y"})
    assert event_hash(**fields) == hashlib.sha256(canonical_bytes(**fields)).hexdigest()


# --- detail validation ---


@pytest.mark.parametrize(("detail", "fragment"), [
    ({"confidence": 0.87}, "detail.confidence is a floating-point number"),
    ({"a": [1, {"b": 1.0}]}, "detail.a[1].b is a floating-point number"),
    ({"n": 2**53}, "outside"),
    ({"n": -(2**53)}, "outside"),
    ({1: "x"}, "key that is not a string"),
    ({"s": {1, 2}}, "type set"),
    ({"nan": float("nan")}, "floating-point"),
])
def test_validate_detail_rejects_what_json_cannot_carry_exactly(
    detail: dict[Any, Any], fragment: str
) -> None:
    with pytest.raises(ValueError, match="detail") as info:
        validate_detail(detail)
    assert fragment in str(info.value)


def test_validate_detail_rejects_non_objects_and_deep_nesting() -> None:
    with pytest.raises(ValueError, match="object"):
        validate_detail([1, 2])
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(40):
        node["k"] = {}
        node = node["k"]
    with pytest.raises(ValueError, match="nested"):
        validate_detail(deep)


def test_normalise_detail_makes_plain_nfc_json() -> None:
    out = normalise_detail({"cafe\u0301": ("e\u0301", 1, True, None)})
    assert out == {"café": ["é", 1, True, None]}
    assert type(out["café"]) is list
    with pytest.raises(ValueError, match="equal after NFC"):
        normalise_detail({"cafe\u0301": 1, "café": 2})


# --- sealing ---


def test_seal_normalises_fields_and_hashes_what_it_stores() -> None:
    event = seal(
        NewAuditEvent(action="crm.logged", outcome="ok", actor="user:Zoe\u0308", run_id="", email_ref="",
                      data_categories=("name", "email_address", "name"), detail={"t": ("a", "b")}),
        seq=5, ts=T0, prev_hash="ab" * 32,
    )
    assert event.actor == "user:Zoë"
    assert event.run_id is None and event.email_ref is None
    assert event.data_categories == ("email_address", "name")
    assert event.detail == {"t": ["a", "b"]}
    assert event.ts == "2026-11-30T18:04:05.123456Z"
    assert field_problem(event) is None
    assert event.hash == hash_of(event)
    assert event.hash == event_hash(**{k: v for k, v in event.__dict__.items() if k != "hash"})


def test_seal_replaces_lone_surrogates() -> None:
    event = _sealed(email_ref="<bad\udcff@x>", detail={"s": "\ud800"})
    assert event.email_ref == "<bad\ufffd@x>"
    assert event.detail == {"s": "\ufffd"}


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"detail": {"p": 0.5}}, "floating-point"),
    ({"data_categories": ("secrets",)}, "unknown data categories"),
    ({"action": ""}, "action is an empty string"),
    ({"outcome": ""}, "outcome is an empty string"),
    ({"destination": ""}, "destination is an empty string"),
    ({"actor": "user:"}, "actor"),
    ({"actor": "robot"}, "actor"),
])
def test_seal_refuses_events_that_break_the_rules(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match="cannot record audit event") as info:
        _sealed(**kwargs)
    assert fragment in str(info.value)


def test_seal_refuses_a_bad_prev_hash_or_seq() -> None:
    with pytest.raises(ValueError, match="prev_hash"):
        seal(NewAuditEvent(action="a", outcome="ok"), seq=1, ts=T0, prev_hash="ABC")
    with pytest.raises(ValueError, match="seq"):
        seal(NewAuditEvent(action="a", outcome="ok"), seq=0, ts=T0, prev_hash=GENESIS_HASH)


# --- field rules on stored events ---


@pytest.mark.parametrize(("change", "fragment"), [
    ({"ts": "2026-11-30T18:04:05Z"}, "ts"),
    ({"run_id": ""}, "run_id is an empty string"),
    ({"actor": "provider:"}, "actor"),
    ({"data_categories": ("name", "email_address")}, "sorted"),
    ({"data_categories": ("name", "name")}, "sorted"),
    ({"detail": {"x": 1.5}}, "detail.x is a floating-point"),
    ({"detail": {"x": ("a",)}}, "detail.x has a value of type tuple"),
    ({"detail": {"cafe\u0301": 1}}, "NFC"),
    ({"email_ref": "e\u0301"}, "email_ref is not in Unicode normalisation form NFC"),
    ({"hash": "A" * 64}, "hash"),
    ({"seq": True}, "seq"),
    ({"detail": []}, "detail is a list"),
])
def test_field_problem_names_the_broken_rule(change: dict[str, Any], fragment: str) -> None:
    good = build_chain(1)[0]
    bad = AuditEvent(**{**good.__dict__, **change})
    problem = field_problem(bad)
    assert problem is not None and fragment in problem


# --- properties: the independent tool's encoder agrees with the engine's ---

# Already NFC (so that distinct keys stay distinct); seal's normalising is tested above.
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12).map(
    lambda s: unicodedata.normalize("NFC", s)
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(detail=st.dictionaries(_text, _json, max_size=5), ref=st.none() | _text, actor=_text)
def test_tool_and_engine_encode_every_sealed_event_identically(
    detail: dict[str, Any], ref: str | None, actor: str
) -> None:
    tool = _tool()
    new = NewAuditEvent(action="p.test", outcome="ok", actor=f"user:{actor}x", email_ref=ref, detail=detail)
    event = seal(new, seq=3, ts=T0, prev_hash=GENESIS_HASH)
    as_exported = json.loads(json.dumps(event.__dict__ | {"data_categories": list(event.data_categories)}))
    assert tool.event_hash(as_exported) == event.hash
    assert tool.canonical({**{k: v for k, v in as_exported.items() if k != "hash"}, "v": 1}).encode() == (
        event_canonical_bytes(event)
    )
    tool.check_rules(as_exported)


_TOOL: list[ModuleType] = []


def _tool() -> ModuleType:
    if not _TOOL:
        _TOOL.append(load_tool())
    return _TOOL[0]
