"""The JSON schemas a provider's answers must match.

Written in the subset of JSON Schema that :mod:`engine.ai.validate` checks and that OpenAI's
strict structured outputs accept (every property required, no additional properties). Bounds
such as ``minimum`` and ``maxLength`` are checked locally; :func:`wire_schema` leaves them out
of what is sent, since not every server accepts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.categories import ALL_CATEGORIES

PRIORITIES = ("low", "normal", "high", "urgent")
MAX_REASONS = 5
MAX_REASON_CHARS = 300
MAX_SUBJECT_CHARS = 250
MAX_BODY_CHARS = 10_000

#: Keywords checked locally but not sent to providers.
_LOCAL_ONLY = frozenset({"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"})


def classification_schema(categories: Sequence[str] = ALL_CATEGORIES) -> dict[str, Any]:
    """``{category, confidence, reasons, priority, injection_suspected}`` for the office's categories."""
    return {
        "title": "email_classification",
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": list(categories)},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasons": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_REASON_CHARS},
                "minItems": 1,
                "maxItems": MAX_REASONS,
            },
            "priority": {"type": "string", "enum": list(PRIORITIES)},
            "injection_suspected": {"type": "boolean"},
        },
        "required": ["category", "confidence", "reasons", "priority", "injection_suspected"],
        "additionalProperties": False,
    }


DRAFT_SCHEMA: dict[str, Any] = {
    "title": "draft_reply",
    "type": "object",
    "properties": {
        "subject": {"type": "string", "minLength": 1, "maxLength": MAX_SUBJECT_CHARS},
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY_CHARS},
    },
    "required": ["subject", "body"],
    "additionalProperties": False,
}


def wire_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as sent to providers: the same shape without the locally checked bounds."""
    return _strip(schema)  # type: ignore[no-any-return]


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _LOCAL_ONLY}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node
