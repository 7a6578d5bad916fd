"""Inbox Triage's test suite (a package so that `tests.support` and `tests.servers` import cleanly)."""
