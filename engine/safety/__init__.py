"""Defences against email text that tries to steer the language models.

Public API:

* :func:`detect_injection` ``(text) -> InjectionFinding(suspected, reasons, evidence)`` — scan
  the subject and body of an email for instruction-like content (also hidden by invisible or
  look-alike characters, or base64).
* :func:`check_draft` ``(draft_text, thread_text, facts_text, *, signature="") -> DraftFindings``
  — links, email addresses and phone numbers a draft adds that the thread, facts page and
  signature do not contain; ``must_review`` is true for any finding.
* :func:`review_flags` — the one-line flags the route step records (any flag forces review).
"""

from engine.safety.drafts import DraftFindings, check_draft
from engine.safety.flags import review_flags
from engine.safety.injection import InjectionFinding, detect_injection

__all__ = ["DraftFindings", "InjectionFinding", "check_draft", "detect_injection", "review_flags"]
