"""What the engine needs from the outside world, as protocols.

``connectors`` implements these over the network (IMAP, SMTP, Graph, HubSpot, AI providers...);
the engine only ever sees these shapes. Adapters raise exceptions deriving from
:class:`engine.errors.TransientError`, :class:`engine.errors.PermanentError` or
:class:`engine.errors.OutcomeUnknownError` so the runner knows whether to retry and whether it must
reconcile first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

JsonDict = dict[str, Any]


# --- Mail in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawMessage:
    """One message as a mailbox handed it over, before the engine parses it.

    The stable identity of a message is (account, folder, uidvalidity, uid) for IMAP-like
    sources; sources without UIDs (folders of files) give a ``source_key`` instead (for example
    the file name plus a content hash). ``received_at`` is the mailbox's arrival time, if known.
    """

    account: str
    folder: str
    raw: bytes
    uidvalidity: int | None = None
    uid: int | None = None
    source_key: str | None = None
    received_at: datetime | None = None

    def identity(self) -> str:
        """The stable identity string the engine keys a run on."""
        if self.uid is not None:
            return f"{self.account}/{self.folder}/{self.uidvalidity or 0}/{self.uid}"
        if self.source_key is None:
            raise ValueError("a RawMessage needs either a uid or a source_key")
        return f"{self.account}/{self.folder}/key/{self.source_key}"


@dataclass(frozen=True)
class FetchedBatch:
    """Messages fetched from a source plus the source's position after them.

    The engine stores ``cursor`` in the same transaction as the messages, so a crash between two
    batches re-fetches at most the batch in flight (and dedupes it).
    """

    messages: list[RawMessage]
    cursor: JsonDict


@dataclass(frozen=True)
class MessageRef:
    """Enough to find a message again in its mailbox (to flag it, move it, or mark it answered)."""

    account: str
    folder: str
    uidvalidity: int | None
    uid: int | None
    source_key: str | None
    message_id: str | None


@runtime_checkable
class MailSource(Protocol):
    """A mailbox the engine polls for new mail."""

    @property
    def account(self) -> str:
        """The configured account name, used in message identities and audit events."""
        ...

    @property
    def destination(self) -> str:
        """Host name this source talks to, or ``"local"``."""
        ...

    def fetch(self, cursor: Mapping[str, Any] | None) -> Iterator[FetchedBatch]:
        """Yield batches of messages newer than ``cursor`` (``None`` = first sync)."""
        ...

    def mark_processed(self, ref: MessageRef) -> None:
        """Flag or move a message whose run has finished, as configured. Must be idempotent."""
        ...

    def mark_answered(self, ref: MessageRef) -> None:
        """Flag the original message as answered after a reply went out. Must be idempotent."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


# --- Mail out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingReply:
    """A reply ready to send. ``message_id`` is derived from ``idempotency_key`` so that a send can
    be recognised in the Sent folder when its outcome is unknown."""

    idempotency_key: str
    message_id: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body_text: str
    in_reply_to: str | None
    references: tuple[str, ...]
    mime: bytes
    original: MessageRef | None = None


@dataclass(frozen=True)
class EffectReceipt:
    """Proof that an effect outside the machine happened: the remote system's reference for it."""

    external_id: str
    destination: str
    detail: JsonDict = field(default_factory=dict)


@runtime_checkable
class MailSender(Protocol):
    """Something that can send a reply (a local outbox folder, SMTP, Microsoft Graph)."""

    @property
    def destination(self) -> str:
        """Host name the reply goes to, or ``"local"``."""
        ...

    def send(self, reply: OutgoingReply) -> EffectReceipt:
        """Send the reply once. Raise ``OutcomeUnknownError`` if it may have gone out."""
        ...

    def find_sent(self, reply: OutgoingReply) -> EffectReceipt | None:
        """Reconcile: look for this reply (by its Message-ID) among what was already sent."""
        ...


# --- CRM -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrmActivity:
    """One email logged against a contact in a CRM."""

    idempotency_key: str
    run_id: str
    email_address: str
    contact_name: str
    company: str
    category: str
    summary: str
    subject: str
    message_id: str | None
    occurred_at: datetime


@runtime_checkable
class CrmClient(Protocol):
    """A remote CRM (HubSpot, Pipedrive, a webhook) that receives one activity per email."""

    @property
    def name(self) -> str:
        """The configured CRM name shown in the audit log and settings."""
        ...

    @property
    def destination(self) -> str:
        """Host name of the CRM API."""
        ...

    def log_activity(self, activity: CrmActivity) -> EffectReceipt:
        """Create the contact if needed and log the activity once."""
        ...

    def find_activity(self, activity: CrmActivity) -> EffectReceipt | None:
        """Reconcile: find an activity already logged under ``activity.idempotency_key``."""
        ...


# --- AI providers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionRequest:
    """A single-turn request to a language model. The email is data inside ``user``; the model gets
    no tools. ``json_schema``, when given, is the shape the answer must have."""

    system: str
    user: str
    json_schema: JsonDict | None = None
    max_tokens: int = 800
    temperature: float = 0.0
    purpose: str = "classify"


@dataclass(frozen=True)
class Completion:
    """A model's answer and what it cost."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int


@runtime_checkable
class AiProvider(Protocol):
    """A language-model endpoint (OpenAI-compatible, Anthropic...)."""

    @property
    def name(self) -> str:
        """The configured provider name."""
        ...

    @property
    def destination(self) -> str:
        """Host name of the API."""
        ...

    @property
    def redact(self) -> bool:
        """Whether personal data must be replaced by placeholders before text goes to this provider."""
        ...

    def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """Return the model's answer to ``request`` within ``timeout`` seconds."""
        ...


# --- Secrets ---------------------------------------------------------------------------------


@runtime_checkable
class SecretStore(Protocol):
    """Where secrets live: the OS keyring. Raises ``SecretStoreUnavailableError`` when none exists."""

    def get(self, name: str) -> str | None:
        """Return the secret stored under ``name``, or ``None``."""
        ...

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``."""
        ...

    def delete(self, name: str) -> None:
        """Forget the secret stored under ``name`` (no error if absent)."""
        ...
