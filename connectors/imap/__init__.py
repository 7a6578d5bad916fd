"""IMAP: a mail source with incremental sync, IDLE push, a Sent folder and "Test connection".

Modules: :mod:`~connectors.imap.endpoint` (host, port, TLS mode), :mod:`~connectors.imap.login`
(password or XOAUTH2), :mod:`~connectors.imap.client` (one connection over stdlib imaplib),
:mod:`~connectors.imap.session` (a reused connection that reconnects with backoff),
:mod:`~connectors.imap.sync` (cursor and plan), :mod:`~connectors.imap.source` (the engine's
``MailSource``), :mod:`~connectors.imap.idle` (push), :mod:`~connectors.imap.sent` (Sent folder)
and :mod:`~connectors.imap.diagnose` (stage-by-stage connection test).
"""
