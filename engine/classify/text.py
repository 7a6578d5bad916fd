"""What the classifier reads: the input of one email, labelled training text, and the model's text.

The model sees one string per email: the subject (twice, so it weighs more), the minimised body
(the caller strips quoted history and signatures) and a few tokens describing the sender address
(``zzdom…`` for the labels of its domain, ``zzrole…`` for automated or role mailboxes such as
``noreply``). The sender tokens can never occur in real text, so they never collide with words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engine.mail.model import ParsedEmail

#: Longest body the model reads; the start of an email says what it is about.
MAX_BODY_CHARS = 3000
SENDER_DOMAIN_PREFIX = "zzdom"
SENDER_ROLE_PREFIX = "zzrole"
#: Local parts (split on ``.``, ``-``, ``_``, ``+``) that mark automated or role mailboxes.
ROLE_WORDS = frozenset({
    "noreply", "no-reply", "donotreply", "do-not-reply", "notifications", "notification", "notify",
    "alerts", "alert", "mailer-daemon", "postmaster", "bounce", "bounces", "newsletter", "news",
    "marketing", "info", "sales", "support", "accounts", "billing", "invoices", "orders", "system",
    "autoreply", "automated", "updates", "security", "admin", "hello", "office",
})
_LOCAL_SPLIT = re.compile(r"[.+_]")
_DOMAIN_SPLIT = re.compile(r"[.\-]")
_ALNUM = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True)
class ClassifierInput:
    """One email as the classifier sees it.

    ``body`` is the minimised body (quoted history and signature removed by the caller);
    ``sender`` is the sender's address (may be empty); ``auto_submitted`` and ``list_id`` come
    from the headers and mark automated or mailing-list mail.
    """

    subject: str
    body: str
    sender: str
    auto_submitted: bool = False
    list_id: str | None = None

    @classmethod
    def from_parsed(cls, email: ParsedEmail, body: str) -> ClassifierInput:
        """Build the input from a parsed email and its minimised ``body``."""
        return cls(
            subject=email.subject,
            body=body,
            sender=email.sender.email if email.sender else "",
            auto_submitted=email.auto_submitted,
            list_id=email.list_id,
        )


@dataclass(frozen=True)
class LabelledText:
    """A training example: an email's text and the category a person gave it.

    ``source`` is ``"shipped"`` for the examples that come with the app and ``"correction"`` for
    a staff member's reclassification; corrections are weighted up when training (see
    :data:`engine.classify.model.CORRECTION_WEIGHT`), on top of ``weight``.
    """

    subject: str
    body: str
    sender: str
    category: str
    weight: float = 1.0
    source: Literal["shipped", "correction"] = "shipped"


def sender_tokens(sender: str) -> list[str]:
    """Tokens describing a sender address: its domain labels and any role word in its local part."""
    address = sender.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not domain:
        return []
    tokens: list[str] = []
    parts = [local, *_LOCAL_SPLIT.split(local)]
    roles = sorted({part for part in parts if part in ROLE_WORDS})
    tokens.extend(SENDER_ROLE_PREFIX + _ALNUM.sub("", role) for role in roles)
    labels = [label for label in _DOMAIN_SPLIT.split(domain) if label]
    tokens.extend(SENDER_DOMAIN_PREFIX + _ALNUM.sub("", label) for label in labels if _ALNUM.sub("", label))
    return tokens


def model_text(subject: str, body: str, sender: str) -> str:
    """The single string the model reads for one email."""
    subject = " ".join(subject.split())
    body = body[:MAX_BODY_CHARS]
    return f"{subject}\n{subject}\n{body}\n{' '.join(sender_tokens(sender))}"
