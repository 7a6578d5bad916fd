"""Data minimisation for outside providers: personal data replaced by typed placeholders.

Public API:

* :class:`Redactor` — ``Redactor(known_names).redact(text) -> Redaction`` and
  ``redact_parts(texts) -> RedactedParts`` (shared placeholders), ``passthrough(texts)`` for
  providers with redaction off, ``categories(texts)``.
* :func:`restore` — put the originals back into a provider's answer;
  :func:`unresolved_placeholders` — tokens the mapping cannot restore.
* :class:`Kind` — the placeholder kinds and their :class:`engine.categories.DataCategory`.

Modules: ``checks`` (Luhn, NHS mod 11, IBAN mod 97, NI number rules, UK phone digits),
``patterns`` (the detectors), ``names`` (known names), ``redactor`` (placeholders), ``kinds``.
"""

from engine.redact.kinds import Kind
from engine.redact.redactor import (
    RedactedParts,
    Redaction,
    Redactor,
    placeholder,
    restore,
    unresolved_placeholders,
)

__all__ = [
    "Kind",
    "RedactedParts",
    "Redaction",
    "Redactor",
    "placeholder",
    "restore",
    "unresolved_placeholders",
]
