"""Human-readable reasons for the local model's decision: the terms that pushed most toward it."""

from __future__ import annotations

from collections.abc import Sequence

from engine.classify.features import STOP_WORDS
from engine.classify.text import SENDER_DOMAIN_PREFIX, SENDER_ROLE_PREFIX

#: A sender token is named only when it pushed at least this share of the strongest word.
SENDER_SHARE = 0.4
_SENDER_PREFIXES = (SENDER_DOMAIN_PREFIX, SENDER_ROLE_PREFIX)
#: Domain labels too generic to explain anything.
_GENERIC_LABELS = frozenset(
    {"com", "co", "uk", "org", "net", "gov", "ac", "sch", "nhs", "ltd", "plc", "eu", "mail"}
)


def model_reasons(contributions: Sequence[tuple[str, float]], *, limit: int = 5) -> tuple[str, ...]:
    """Reasons from (feature, contribution) pairs sorted largest first.

    Gives ``words: "refund", "damaged", "not happy"`` (up to ``limit`` terms that pushed toward
    the category, skipping bare stop words and numbers) and, when the sender address mattered,
    ``sender: "noreply", "royalmail"``.
    """
    words: list[str] = []
    senders: list[tuple[str, float]] = []
    for feature, value in contributions:
        if value <= 0.0:
            break
        if any(part.startswith(_SENDER_PREFIXES) for part in feature.split(" ")):
            label = _sender_label(feature)
            if " " not in feature and label not in _GENERIC_LABELS:
                senders.append((label, value))
            continue
        if len(words) < limit and _is_telling(feature):
            words.append(feature)
    reasons = []
    if words:
        reasons.append("words: " + ", ".join(f'"{w}"' for w in words))
    strongest = next((v for f, v in contributions if f in words), 0.0)
    named = [label for label, value in senders if value >= SENDER_SHARE * strongest][:3]
    if named:
        reasons.append("sender: " + ", ".join(f'"{label}"' for label in named))
    return tuple(reasons)


def _is_telling(feature: str) -> bool:
    """Whether a word feature means something to a reader (not only stop words or digits)."""
    parts = feature.split(" ")
    return any(p not in STOP_WORDS and not p.isdigit() and not p.startswith("_") for p in parts)


def _sender_label(token: str) -> str:
    """``zzrolenoreply`` → ``noreply``; ``zzdomroyalmail`` → ``royalmail``."""
    for prefix in _SENDER_PREFIXES:
        if token.startswith(prefix):
            return token[len(prefix) :]
    return token
