"""Header signals: automated or mailing-list mail is strong evidence for *notification*.

``Auto-Submitted`` (and the parser's other automatic-mail markers) or a ``List-Id`` multiply the
odds of *notification* by :data:`HEADER_LIKELIHOOD_RATIO` before the model's probabilities are
renormalised. Bulk spam carries the same headers, so content the model is sure is spam (or a
genuine complaint) still wins: a Bayesian update rather than an override.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.categories import Category
from engine.classify.text import ClassifierInput

#: How much more likely automated headers are on a notification than on any other mail.
HEADER_LIKELIHOOD_RATIO = 20.0
_MAX_LIST_ID = 80
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def header_signal(item: ClassifierInput) -> str | None:
    """A reason describing the automated-mail headers, or ``None`` when there are none."""
    parts = []
    if item.auto_submitted:
        parts.append("marked as automatic mail")
    if item.list_id:
        list_id = _UNPRINTABLE.sub("", item.list_id).strip()[:_MAX_LIST_ID]
        parts.append(f"mailing list {list_id}" if list_id else "mailing list")
    return "headers: " + ", ".join(parts) if parts else None


def with_header_evidence(probabilities: Mapping[str, float]) -> dict[str, float]:
    """The probabilities after weighing in automated-mail headers (still summing to one)."""
    notification = Category.NOTIFICATION.value
    p = probabilities.get(notification, 0.0)
    scale = HEADER_LIKELIHOOD_RATIO * p + (1.0 - p)
    if scale <= 0.0:
        return dict(probabilities)
    return {
        c: (v * HEADER_LIKELIHOOD_RATIO if c == notification else v) / scale for c, v in probabilities.items()
    }
