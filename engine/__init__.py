"""Inbox Triage's orchestration engine: the domain, the durable runner, storage and the audit log.

This package never imports PySide6, ``connectors`` or ``desktop``; it declares what it needs from
the outside world as protocols in :mod:`engine.ports`.
"""
