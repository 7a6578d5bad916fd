"""Email as data: pure functions over untrusted message bytes and text (no database, no network).

- :mod:`engine.mail.parse` — ``parse_message(raw) -> ParsedEmail | Quarantined``, ``peek_message_id``.
- :mod:`engine.mail.quoting` — ``strip_quoted_and_signature(text)`` for the *minimise* step.
- :mod:`engine.mail.reply` — ``build_reply(...) -> OutgoingReply``, ``message_id_for_key``, ``reply_subject``.
- :mod:`engine.mail.html_text` — ``html_to_text(html)``.
- :mod:`engine.mail.sanitize` — ``sanitize_html(html)`` for the desktop's HTML view.
- :mod:`engine.mail.model` — the shared dataclasses (``ParsedEmail``, ``Address``, ``Attachment``,
  ``Quarantined``).
"""
