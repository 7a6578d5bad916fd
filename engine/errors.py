"""The engine's exception tree.

Every error the engine raises derives from :class:`EngineError`. Adapters outside the engine
(``connectors``) signal how a failure should be treated by raising exceptions that *also* derive
from :class:`TransientError`, :class:`PermanentError` or :class:`OutcomeUnknownError`; the runner
decides on retries from those three markers alone.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error raised by the engine."""


class ConfigurationError(EngineError):
    """A setting is missing or invalid; the message says what to fix."""


class NotFoundError(EngineError):
    """A run, queue item, contact or other record does not exist."""


class InvalidStateError(EngineError):
    """An operation does not apply to a record in its current state (e.g. approving a closed run)."""


class StorageError(EngineError):
    """The database could not be opened, migrated or written."""


class StepError(EngineError):
    """Base class of the failures a workflow step or an adapter can report to the runner."""


class TransientError(StepError):
    """A failure worth retrying later: a timeout, a refused connection, HTTP 429 or 5xx.

    ``retry_after`` (seconds), when the remote side said how long to wait, overrides the backoff.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(StepError):
    """A failure that retrying cannot fix: bad data, HTTP 4xx, a rejected login."""


class OutcomeUnknownError(TransientError):
    """An effect outside the machine may or may not have happened (e.g. the connection dropped after
    the request was sent). The runner reconciles before trying again."""


class StepTimeoutError(TransientError):
    """A step did not finish within its time limit."""


class LeaseLostError(EngineError):
    """Another worker took over the run; this worker must stop working on it."""


class AuditIntegrityError(EngineError):
    """The audit chain does not verify; ``seq`` names the first bad event."""

    def __init__(self, message: str, *, seq: int | None) -> None:
        super().__init__(message)
        self.seq = seq


class SecretStoreUnavailableError(EngineError):
    """No secure OS keyring is available, so a secret cannot be stored or read."""
