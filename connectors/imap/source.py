"""An IMAP folder as the engine's :class:`~engine.ports.MailSource`.

``fetch`` runs one pass as planned by :mod:`connectors.imap.sync`: SELECT (one command when
nothing is new), then UID SEARCH, one FETCH of sizes, and one FETCH of bodies (``BODY.PEEK[]``:
the mail stays unread) per batch of at most ``batch_size`` messages or ``batch_bytes`` bytes.
Each batch carries the cursor after it; the engine stores both in one transaction.

A dropped connection is reconnected with backoff by the :class:`ImapSession` and the command
retried; if the folder was renumbered meanwhile (UIDVALIDITY changed) the pass starts again as a
resync. Processed mail gets a keyword (``$Triaged`` by default) or is moved to a folder; it is
never deleted. Marking finds the message by UID while the folder keeps its UIDVALIDITY, else by
its Message-ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Literal

from connectors.imap.client import FetchedMessage, FolderStatus, ImapClient, quote
from connectors.imap.errors import ImapCapabilityError, ImapCommandError, ImapConnectError
from connectors.imap.session import ImapSession
from connectors.imap.sync import SyncCursor, SyncPlan, plan_sync
from engine.ports import FetchedBatch, MessageRef, RawMessage

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "INBOX"
DEFAULT_KEYWORD = "$Triaged"
DEFAULT_FIRST_SYNC_DAYS = 14
#: Messages per batch (one engine transaction each).
DEFAULT_BATCH_SIZE = 500
#: A batch is closed once it holds this many bytes (it always holds at least one message).
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024
_MAX_RESTARTS = 3


@dataclass(frozen=True)
class ProcessedAction:
    """What happens to a message whose run has finished: add a keyword/flag, or move it."""

    action: Literal["flag", "move"] = "flag"
    keyword: str = DEFAULT_KEYWORD
    folder: str = ""


class _Renumbered(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The folder's UIDVALIDITY changed in the middle of a pass."""


def _today() -> date:
    return datetime.now(UTC).date()


class ImapSource:
    """One watched folder of one IMAP account."""

    def __init__(
        self,
        session: ImapSession,
        *,
        folder: str = DEFAULT_FOLDER,
        processed: ProcessedAction | None = None,
        first_sync_days: int = DEFAULT_FIRST_SYNC_DAYS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        today: Callable[[], date] = _today,
    ) -> None:
        if batch_size < 1 or batch_bytes < 1:
            raise ValueError("batch_size and batch_bytes must be at least 1")
        self.session = session
        self.folder = folder
        self.processed = processed or ProcessedAction()
        self.first_sync_days = first_sync_days
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self._today = today
        self._created: set[str] = set()

    @property
    def account(self) -> str:
        """The configured account name."""
        return self.session.account

    @property
    def destination(self) -> str:
        """The IMAP server's host name."""
        return self.session.endpoint.host

    # --- fetching ------------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any] | None) -> Iterator[FetchedBatch]:
        """Yield batches of messages newer than ``cursor`` (see the module docstring)."""
        previous = SyncCursor.from_json(dict(cursor) if cursor is not None else None)
        for _attempt in range(_MAX_RESTARTS):
            position: list[SyncCursor | None] = [previous]
            try:
                yield from self._pass(previous, position)
                return
            except _Renumbered:
                log.info("%s: %s was renumbered during a sync; syncing it again", self.account, self.folder)
                previous = position[0]
        raise ImapConnectError(
            f"{self.account}: folder {self.folder!r} keeps being renumbered", stage="folder"
        )

    def _pass(self, previous: SyncCursor | None, position: list[SyncCursor | None]) -> Iterator[FetchedBatch]:
        status, grew = self.session.run(lambda c: self._look(c, previous))
        if grew is False:
            return
        if grew and previous is not None:  # the reused connection saw the folder grow: search at once
            plan = SyncPlan(previous, "incremental", nothing_new=False)
        else:
            plan = plan_sync(
                previous,
                status,
                folder=self.folder,
                today=self._today(),
                first_sync_days=self.first_sync_days,
            )
        if plan.nothing_new:
            return
        if plan.kind == "resync":
            log.warning("%s: UIDVALIDITY of %s changed; syncing it again", self.account, self.folder)
        uids = self.session.run(lambda c: self._search(c, status, plan))
        if not uids:
            final = plan.finished(status, plan.start.last_uid)
            if final != previous:
                yield FetchedBatch([], final.to_json())
            return
        sizes = self.session.run(lambda c: self._checked(c, status).fetch_sizes(uids))
        batches = self._group([u for u in uids if u in sizes], sizes)
        cursor = plan.start
        for index, batch in enumerate(batches):
            fetched = self.session.run(partial(self._fetch_batch, status=status, uids=batch))
            messages = [
                RawMessage(
                    account=self.account,
                    folder=self.folder,
                    raw=m.raw,
                    uidvalidity=status.uidvalidity,
                    uid=m.uid,
                    received_at=m.internaldate,
                )
                for m in fetched
            ]
            if index == len(batches) - 1:
                cursor = plan.finished(status, batch[-1])
            else:
                cursor = replace(cursor, last_uid=batch[-1], modseq=None)
            position[0] = cursor
            yield FetchedBatch(messages, cursor.to_json())
        if not batches:
            final = plan.finished(status, uids[-1])
            position[0] = final
            yield FetchedBatch([], final.to_json())

    def _look(self, client: ImapClient, previous: SyncCursor | None) -> tuple[FolderStatus, bool | None]:
        """The folder's status and whether it grew: ``None`` = just selected (decide from SELECT).

        On the reused connection, with the folder still selected since the last complete pass, a
        NOOP tells whether new mail arrived (one cheap command); otherwise the folder is selected.
        """
        selected = client.selected
        if (
            previous is not None
            and previous.complete
            and selected is not None
            and selected.name == self.folder
            and selected.uidvalidity == previous.uidvalidity
        ):
            grew = client.mailbox_grew()
            return replace(selected, uidnext=None, highestmodseq=None), grew
        return self.session.select(client, self.folder, refresh=True), None

    def _fetch_batch(
        self, client: ImapClient, *, status: FolderStatus, uids: list[int]
    ) -> list[FetchedMessage]:
        return self._checked(client, status).fetch_messages(uids)

    def _search(self, client: ImapClient, status: FolderStatus, plan: SyncPlan) -> list[int]:
        found = self._checked(client, status).uid_search(*plan.search_criteria())
        return [uid for uid in found if uid > plan.start.last_uid]

    def _checked(self, client: ImapClient, status: FolderStatus) -> ImapClient:
        """The client with the folder selected, after making sure it was not renumbered."""
        current = self.session.select(client, self.folder)
        if current.uidvalidity != status.uidvalidity:
            raise _Renumbered
        return client

    def _group(self, uids: Sequence[int], sizes: Mapping[int, int]) -> list[list[int]]:
        batches: list[list[int]] = []
        current: list[int] = []
        current_bytes = 0
        for uid in uids:
            size = sizes.get(uid, 0)
            if current and (len(current) >= self.batch_size or current_bytes + size > self.batch_bytes):
                batches.append(current)
                current, current_bytes = [], 0
            current.append(uid)
            current_bytes += size
        if current:
            batches.append(current)
        return batches

    # --- marking -------------------------------------------------------------------------------

    def mark_processed(self, ref: MessageRef) -> None:
        """Add the keyword or move the message, as configured; doing it twice changes nothing."""
        self.session.run(lambda c: self._retrying(c, ref, self._mark_processed))

    def mark_answered(self, ref: MessageRef) -> None:
        """Flag the original \\Answered."""
        self.session.run(lambda c: self._retrying(c, ref, partial(self._flag, flag="\\Answered")))

    def _retrying(
        self, client: ImapClient, ref: MessageRef, operation: Callable[[ImapClient, MessageRef], None]
    ) -> None:
        """Run ``operation``; if the server refuses it, SELECT again (the folder may have changed
        under this connection, e.g. renumbered) and try once more."""
        try:
            operation(client, ref)
        except ImapCommandError:
            self.session.select(client, ref.folder or self.folder, refresh=True)
            operation(client, ref)

    def _mark_processed(self, client: ImapClient, ref: MessageRef) -> None:
        if self.processed.action == "flag":
            self._flag(client, ref, flag=self.processed.keyword)
            return
        uids = self._locate(client, ref)
        if not uids:
            return
        target = self.processed.folder
        try:
            client.move(uids, target)
        except ImapCommandError as exc:
            if "TRYCREATE" not in str(exc) or target in self._created:
                raise
            client.create(target)
            self._created.add(target)
            self.session.select(client, ref.folder or self.folder)
            client.move(uids, target)

    def _flag(self, client: ImapClient, ref: MessageRef, *, flag: str) -> None:
        uids = self._locate(client, ref)
        if not uids:
            return
        status = client.selected
        if status is not None and not status.allows_keyword(flag):
            raise ImapCapabilityError(
                f"{self.account}: the server does not keep the keyword {flag!r} in {status.name!r}; "
                "choose \\Seen or moving to a folder for processed mail"
            )
        client.add_flags(uids, [flag])

    def _locate(self, client: ImapClient, ref: MessageRef) -> list[int]:
        """The message's UID in its folder now: by UID if not renumbered, else by Message-ID."""
        status = self.session.select(client, ref.folder or self.folder)
        if ref.uid is not None and ref.uidvalidity == status.uidvalidity:
            return [ref.uid]
        if ref.message_id:
            return client.uid_search("HEADER", "Message-ID", quote(ref.message_id))
        return []

    def close(self) -> None:
        """Log out."""
        self.session.close()
