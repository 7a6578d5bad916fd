"""Errors of the engine's AI layer."""

from __future__ import annotations

from engine.errors import PermanentError


class ProviderOutputRejectedError(PermanentError):
    """A provider's answer is not what the schema demands (not JSON, extra keys, wrong types, an
    unknown category, a placeholder that cannot be restored). The chain tries the next provider.

    ``problems`` describe what was wrong by position and rule only — never by content — so they may
    go into the audit log.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the provider's answer was rejected: " + "; ".join(problems[:5]))
        self.problems = tuple(problems)


#: Attribute a provider sets (to ``False``) on an error raised before any request left the machine
#: (egress refused, limiter refused, no API key, connection never made), so the audit log does not
#: claim that data went out.
REQUEST_SENT_ATTR = "request_sent"


def mark_not_sent(exc: BaseException) -> None:
    """Record on ``exc`` that nothing was sent before it was raised."""
    setattr(exc, REQUEST_SENT_ATTR, False)


def was_sent(exc: BaseException) -> bool:
    """Whether the request may have left the machine before ``exc`` (true unless marked otherwise)."""
    return getattr(exc, REQUEST_SENT_ATTR, True) is not False
