"""The one place where calls into the standard library's mail parser are fenced off.

The ``email`` package raises a variety of exceptions on hostile or merely unusual input (its
header value parser has raised ``IndexError``, ``AttributeError``, ``ValueError`` and
``HeaderParseError`` on real mail, and deep nesting can exhaust recursion). Ingest must never fail
on content, so each such call goes through :func:`guarded`, which turns any exception into a
note the caller records as a defect and works around.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def guarded(call: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run ``call``; return ``(result, None)`` or ``(None, "ExceptionType: message")``."""
    try:
        return call(), None
    except Exception as exc:  # noqa: BLE001 - content must never crash ingest; the caller records it
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
