"""Strict checking of a provider's answer against a schema.

The answer must be one JSON object — optionally inside a single Markdown code fence, nothing
else around it — with no duplicate keys, no NaN or Infinity, and it must match the schema
exactly: required keys present, no others, types and bounds checked. Problems are reported by
JSON path and rule, never by the values themselves (they may echo the email).

Supported keywords: ``type`` (object, array, string, number, integer, boolean, null), ``enum``,
``properties``, ``required``, ``additionalProperties`` (``false`` only), ``items``, ``minItems``,
``maxItems``, ``minLength``, ``maxLength``, ``minimum``, ``maximum``, plus the annotations
``title`` and ``description``. Any other keyword is a programming error.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from engine.ai.errors import ProviderOutputRejectedError

MAX_ANSWER_CHARS = 40_000
_FENCE = re.compile(r"^```[A-Za-z]{0,10}+[ \t]*+\n(.*)\n```$", re.DOTALL)
_KNOWN = frozenset(
    {
        "type", "enum", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "minLength", "maxLength", "minimum", "maximum", "title", "description",
    }
)  # fmt: skip
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def parse_answer(text: str) -> Any:
    """Decode the answer's JSON (see the module docstring), or raise :class:`ProviderOutputRejectedError`."""
    stripped = text.strip()
    if len(stripped) > MAX_ANSWER_CHARS:
        raise ProviderOutputRejectedError([f"$: the answer is longer than {MAX_ANSWER_CHARS} characters"])
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    try:
        return json.loads(stripped, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        problem = f"$: the answer is not a JSON object ({type(exc).__name__})"
        raise ProviderOutputRejectedError([problem]) from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def problems(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty when it matches)."""
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"unsupported schema keywords: {sorted(unknown)}")
    found: list[str] = []
    expected = schema.get("type")
    if expected is not None and not _has_type(value, expected):
        return [f"{path}: must be of type {expected}"]
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        found.append(f"{path}: is not one of the allowed values")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: is shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: is longer than {schema['maxLength']} characters")
    if _has_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: is above {schema['maximum']}")
    if isinstance(value, list):
        found.extend(_array_problems(value, schema, path))
    if isinstance(value, dict):
        found.extend(_object_problems(value, schema, path))
    return found


def _array_problems(value: list[Any], schema: dict[str, Any], path: str) -> list[str]:
    found: list[str] = []
    if len(value) < schema.get("minItems", 0):
        found.append(f"{path}: has fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        found.append(f"{path}: has more than {schema['maxItems']} items")
    if "items" in schema:
        for index, item in enumerate(value):
            found.extend(problems(item, schema["items"], f"{path}[{index}]"))
    return found


def _object_problems(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    found: list[str] = []
    properties: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            found.append(f"{path}.{key}: is required")
    if schema.get("additionalProperties", True) is False:
        extra = sorted(k for k in value if k not in properties)
        if extra:
            found.append(f"{path}: has {len(extra)} key(s) the schema does not allow")
    elif schema.get("additionalProperties", True) is not True:
        raise ValueError("additionalProperties must be true or false")
    for key, sub in properties.items():
        if key in value:
            found.extend(problems(value[key], sub, f"{path}.{key}"))
    return found


def _has_type(value: Any, expected: str | list[str]) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    for name in names:
        if name not in _TYPES:
            raise ValueError(f"unsupported type {name!r}")
        if isinstance(value, bool) and name not in ("boolean",):
            continue  # JSON true is not a number
        if isinstance(value, _TYPES[name]):
            if isinstance(value, float) and not math.isfinite(value):
                continue
            return True
    return False


def _same(value: Any, option: Any) -> bool:
    return type(value) is type(option) and value == option


def validated(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The answer decoded and checked; raise :class:`ProviderOutputRejectedError` listing every problem."""
    value = parse_answer(text)
    found = problems(value, schema)
    if found:
        raise ProviderOutputRejectedError(found)
    if not isinstance(value, dict):  # pragma: no cover - the schemas used here are objects
        raise ProviderOutputRejectedError(["$: must be of type object"])
    return value
