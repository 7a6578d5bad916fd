"""Shared defaults of the triage steps."""

from __future__ import annotations

from engine.durable.retry import RetryPolicy


class LocalStep:
    """A step whose only effects are in this machine's database (may share a transaction)."""

    local = True
    timeout_s = 30.0
    retry = RetryPolicy(max_attempts=3)


class RemoteStep:
    """A step that may reach another machine: runs in a worker thread with a time limit."""

    local = False
    timeout_s = 120.0
    retry = RetryPolicy()
