"""How things read on screen: relative times, category colours and names, errors in plain words.

Pure functions (no Qt) so they are trivial to test.
"""

from __future__ import annotations

from datetime import UTC, datetime

#: Badge colours per category (background, text); complaints stand out in red.
CATEGORY_COLOURS: dict[str, tuple[str, str]] = {
    "complaint": ("#c62828", "#ffffff"),
    "cancellation": ("#ef6c00", "#ffffff"),
    "billing": ("#6a1b9a", "#ffffff"),
    "order": ("#2e7d32", "#ffffff"),
    "enquiry": ("#1565c0", "#ffffff"),
    "notification": ("#78909c", "#ffffff"),
    "spam": ("#5d4037", "#ffffff"),
    "other": ("#546e7a", "#ffffff"),
}
_UNKNOWN_COLOUR = ("#9e9e9e", "#ffffff")

STATE_LABELS: dict[str, str] = {
    "pending": "Queued",
    "retrying": "Retrying",
    "waiting_review": "Waiting for review",
    "completed": "Done",
    "failed": "Failed",
    "quarantined": "Quarantined",
}

OUTCOME_LABELS: dict[str, str] = {
    "sent": "Reply sent",
    "no_reply": "Closed without a reply",
    "rejected": "Rejected",
}


def category_colours(category: str | None) -> tuple[str, str]:
    """Background and text colour of a category's badge."""
    return CATEGORY_COLOURS.get(category or "", _UNKNOWN_COLOUR)


def category_label(category: str | None) -> str:
    """A category as shown on a badge: ``Complaint``; a dash when unknown."""
    return category.replace("_", " ").capitalize() if category else "—"


def state_label(state: str, outcome: str | None = None) -> str:
    """A run's state for people, with the outcome of a finished run."""
    if state == "completed" and outcome:
        return OUTCOME_LABELS.get(outcome, outcome.replace("_", " ").capitalize())
    return STATE_LABELS.get(state, state.replace("_", " ").capitalize())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def duration_words(seconds: float) -> str:
    """``just now``, ``5 min``, ``2 h``, ``3 days`` — rounded down, for "waited" columns."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days = hours // 24
    return f"{days} days"


def waited(since: datetime | None, now: datetime) -> str:
    """``waited 2 h`` style text for a queue item (empty when unknown)."""
    if since is None:
        return ""
    words = duration_words((_aware(now) - _aware(since)).total_seconds())
    return "< 1 min" if words == "just now" else words


def ago(moment: datetime | None, now: datetime) -> str:
    """``5 min ago`` / ``just now`` (empty when unknown)."""
    if moment is None:
        return ""
    words = duration_words((_aware(now) - _aware(moment)).total_seconds())
    return words if words == "just now" else f"{words} ago"


def local_time(moment: datetime | None, now: datetime | None = None) -> str:
    """A time stamp in local time: ``14:05`` today, ``Mon 14:05`` this week, else ``3 Nov 2026 14:05``."""
    if moment is None:
        return ""
    local = _aware(moment).astimezone()
    today = _aware(now or datetime.now(UTC)).astimezone()
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if 0 < (today.date() - local.date()).days < 7:
        return local.strftime("%a %H:%M")
    return f"{local.day} {local.strftime('%b %Y %H:%M')}"


def audit_time(ts: str) -> str:
    """An audit time stamp (RFC 3339 UTC) in local time to the second: ``2026-11-30 09:00:01``."""
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def confidence_text(confidence: float | None) -> str:
    """``92 %`` (empty when unknown)."""
    return "" if confidence is None else f"{round(confidence * 100)} %"


def actor_label(actor: str) -> str:
    """How an actor reads: ``user:Alice`` → ``Alice``; ``provider:openai`` → ``openai (provider)``."""
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        return name
    if kind == "provider" and name:
        return f"{name} (provider)"
    if actor == "system":
        return "Inbox Triage"
    return actor


_KIND_WORDS = {
    "transient": "Could not reach the service; it will be tried again",
    "timeout": "It took too long; it will be tried again",
    "outcome_unknown": "It is not certain whether it went through; checked before trying again",
    "permanent": "It was refused",
    "internal": "It could not be done",
    "quarantined": "Quarantined",
}


def error_words(state: str, error: str | None, error_kind: str | None, step: str | None = None) -> str:
    """A run's error as one sentence a person can act on (empty when there is none)."""
    if not error and state not in ("failed", "quarantined"):
        return ""
    if state == "quarantined":
        return f"Quarantined: {error or 'this message cannot be processed safely'}"
    lead = _KIND_WORDS.get(error_kind or "", "It failed")
    where = f" while {_STEP_WORDS.get(step or '', step)}" if step else ""
    if state == "failed":
        lead = lead.split(";")[0]
    detail = f": {error}" if error else "."
    return f"{lead}{where}{detail}"


_STEP_WORDS = {
    "parse": "reading the email",
    "minimise": "preparing the text",
    "classify": "classifying",
    "crm": "logging to the CRM",
    "draft": "drafting the reply",
    "route": "applying the policy",
    "send": "sending the reply",
    "close": "closing",
}
