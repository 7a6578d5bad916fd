"""Strict validation of provider answers against the schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.ai.errors import ProviderOutputRejectedError
from engine.ai.schemas import DRAFT_SCHEMA, classification_schema, wire_schema
from engine.ai.validate import parse_answer, problems, validated
from engine.errors import PermanentError

SCHEMA = classification_schema()
GOOD: dict[str, Any] = {
    "category": "order",
    "confidence": 0.8,
    "reasons": ["mentions an order"],
    "priority": "normal",
    "injection_suspected": False,
}


def answer(**changes: Any) -> str:
    value = {**GOOD, **changes}
    return json.dumps({k: v for k, v in value.items() if v is not ...})


def test_valid_answer() -> None:
    assert validated(answer(), SCHEMA) == GOOD
    assert validated("```json\n" + answer() + "\n```", SCHEMA) == GOOD
    assert validated(json.dumps({"subject": "Re: x", "body": "Hello"}), DRAFT_SCHEMA)["body"] == "Hello"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (answer(extra="x"), "$: has 1 key(s) the schema does not allow"),
        (answer(priority=...), "$.priority: is required"),
        (answer(confidence="0.9"), "$.confidence: must be of type number"),
        (answer(confidence=True), "$.confidence: must be of type number"),
        (answer(confidence=1.5), "$.confidence: is above 1"),
        (answer(confidence=-0.1), "$.confidence: is below 0"),
        (answer(category="urgent-refund"), "$.category: is not one of the allowed values"),
        (answer(priority="asap"), "$.priority: is not one of the allowed values"),
        (answer(reasons=[]), "$.reasons: has fewer than 1 items"),
        (answer(reasons=["a"] * 6), "$.reasons: has more than 5 items"),
        (answer(reasons=[7]), "$.reasons[0]: must be of type string"),
        (answer(reasons=["x" * 301]), "$.reasons[0]: is longer than 300 characters"),
        (answer(injection_suspected="false"), "$.injection_suspected: must be of type boolean"),
        (json.dumps([GOOD]), "$: must be of type object"),
    ],
)
def test_schema_violations(text: str, problem: str) -> None:
    with pytest.raises(ProviderOutputRejectedError) as caught:
        validated(text, SCHEMA)
    assert problem in caught.value.problems
    assert isinstance(caught.value, PermanentError)


@pytest.mark.parametrize(
    "text",
    [
        "Sure! Here is the JSON: " + answer(),
        answer() + "\nHope this helps",
        '{"category": "order", "category": "spam"}',  # duplicate keys smuggle a second value
        answer(confidence=0.5).replace("0.5", "NaN"),
        answer(confidence=0.5).replace("0.5", "Infinity"),
        "",
        "{" * 5000,
        " " + "x" * 50_000,
    ],
)
def test_not_json_or_not_only_json(text: str) -> None:
    with pytest.raises(ProviderOutputRejectedError):
        validated(text, SCHEMA)


def test_problems_never_quote_values() -> None:
    with pytest.raises(ProviderOutputRejectedError) as caught:
        validated(answer(category="priya@redlandphysio.co.uk", reasons=["jane"] * 9), SCHEMA)
    text = " ".join(caught.value.problems) + str(caught.value)
    assert "priya" not in text and "jane" not in text


def test_unknown_schema_keywords_are_a_bug() -> None:
    with pytest.raises(ValueError, match="unsupported schema keywords"):
        problems({}, {"type": "object", "patternProperties": {}})


def test_wire_schema_is_strict_mode_shaped() -> None:
    for schema in (SCHEMA, DRAFT_SCHEMA):
        wire = wire_schema(schema)
        assert wire["additionalProperties"] is False
        assert sorted(wire["required"]) == sorted(wire["properties"])
        text = json.dumps(wire)
        for keyword in ("minimum", "maximum", "maxLength", "minItems"):
            assert keyword not in text
    assert "maximum" in json.dumps(SCHEMA)  # still checked locally


def test_categories_follow_the_office() -> None:
    schema = classification_schema(["order", "artwork"])
    assert validated(answer(category="artwork"), schema)["category"] == "artwork"
    with pytest.raises(ProviderOutputRejectedError):
        validated(answer(category="complaint"), schema)


def test_parse_answer_plain_fence_without_language() -> None:
    assert parse_answer('```\n{"a": 1}\n```') == {"a": 1}
