"""A Microsoft 365 mailbox folder as the engine's :class:`~engine.ports.MailSource`, by delta query.

The first sync asks ``/me/mailFolders/{folder}/messages/delta`` for messages received since the
first-sync window's first day (``$filter=receivedDateTime ge ...``), page by page
(``@odata.nextLink``); the last page carries an ``@odata.deltaLink``, which is the cursor: the
next poll asks that link and gets only what changed since. Each message's bytes come from
``/me/messages/{id}/$value`` (up to four at a time, the mailbox's limit).

Cursor: ``{"v": 1, "folder", "since", "link", "link_kind": "next"|"delta"}``; a crash mid-sync
resumes from the stored next link. An expired link (HTTP 410) starts the sync again from
``since``; the engine drops what it already has by Message-ID. Message ids are requested as
immutable ids (``Prefer: IdType="ImmutableId"``) so they survive moves; the id is the message's
``source_key``.

Processed mail gets an Outlook category (``Triaged`` by default) or is moved to a folder; it is
never deleted. Answered mail is marked as replied the way Outlook does it (PidTagLastVerbExecuted
= 102, PidTagIconIndex = 261).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from connectors.errors import MalformedResponseError, RemoteNotFoundError
from connectors.graph.client import DeltaExpiredError, GraphClient
from connectors.graph.limits import MAX_CONCURRENT_REQUESTS
from engine.ports import FetchedBatch, MessageRef, RawMessage

CURSOR_VERSION = 1
DEFAULT_FOLDER = "inbox"
DEFAULT_CATEGORY = "Triaged"
DEFAULT_PAGE_SIZE = 50
_LAST_VERB_EXECUTED = "Integer 0x1081"
_ICON_INDEX = "Integer 0x1080"
_REPLIED = "102"
_REPLIED_ICON = "261"


@dataclass(frozen=True)
class GraphProcessed:
    """What happens to a processed message: an Outlook category, or a move to a folder."""

    action: Literal["flag", "move"] = "flag"
    category: str = DEFAULT_CATEGORY
    folder: str = ""


def _today() -> date:
    return datetime.now(UTC).date()


def _received(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def odata_quote(value: str) -> str:
    """A string literal for an OData ``$filter`` (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class GraphSource:
    """One folder of one Microsoft 365 mailbox."""

    def __init__(
        self,
        client: GraphClient,
        *,
        account: str,
        folder: str = DEFAULT_FOLDER,
        processed: GraphProcessed | None = None,
        first_sync_days: int = 14,
        page_size: int = DEFAULT_PAGE_SIZE,
        today: Callable[[], date] = _today,
    ) -> None:
        self.client = client
        self._account = account
        self.folder = folder
        self.processed = processed or GraphProcessed()
        self.first_sync_days = first_sync_days
        self.page_size = page_size
        self._today = today
        self._folder_ids: dict[str, str] = {}
        self._pool = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_REQUESTS, thread_name_prefix="graph-mime")

    @property
    def account(self) -> str:
        """The configured account name."""
        return self._account

    @property
    def destination(self) -> str:
        """Graph's host name."""
        return self.client.host

    @property
    def headers(self) -> dict[str, str]:
        """Headers every request of this source carries (page size, immutable ids)."""
        return {"Prefer": f'odata.maxpagesize={self.page_size}, IdType="ImmutableId"'}

    # --- fetching --------------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any] | None) -> Iterator[FetchedBatch]:
        """Yield one batch per delta page; the last one's cursor holds the delta link."""
        since, link = self._start(cursor)
        try:
            yield from self._pages(since, link, cursor)
        except DeltaExpiredError:
            if link is None:
                raise
            yield from self._pages(since, None, None)

    def _start(self, cursor: Mapping[str, Any] | None) -> tuple[date, str | None]:
        if (
            cursor is not None
            and cursor.get("v") == CURSOR_VERSION
            and cursor.get("folder") == self.folder
            and isinstance(cursor.get("link"), str)
        ):
            try:
                return date.fromisoformat(str(cursor["since"])), str(cursor["link"])
            except (KeyError, ValueError):
                pass
        return self._today() - timedelta(days=self.first_sync_days), None

    def _pages(
        self, since: date, link: str | None, previous: Mapping[str, Any] | None
    ) -> Iterator[FetchedBatch]:
        if link is None:
            url = f"/me/mailFolders/{self.folder}/messages/delta"
            params: dict[str, str] | None = {
                "$select": "id,internetMessageId,receivedDateTime",
                "$filter": f"receivedDateTime ge {since.isoformat()}T00:00:00Z",
            }
        else:
            url, params = link, None
        while True:
            page = self.client.get_json(url, params=params, headers=self.headers)
            items = [
                i for i in page.get("value", []) if isinstance(i, dict) and "@removed" not in i and "id" in i
            ]
            messages = list(self._pool.map(self._message, items))
            next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            if isinstance(next_link, str):
                cursor = self._cursor(since, next_link, "next")
            elif isinstance(delta_link, str):
                cursor = self._cursor(since, delta_link, "delta")
            else:
                raise MalformedResponseError("Microsoft Graph: a delta page without nextLink or deltaLink")
            if messages or cursor != previous:
                yield FetchedBatch(messages, cursor)
            if not isinstance(next_link, str):
                return
            url, params = next_link, None

    def _message(self, item: dict[str, Any]) -> RawMessage:
        message_id = str(item["id"])
        raw = self.client.request("GET", f"/me/messages/{message_id}/$value", headers=self.headers).content
        return RawMessage(
            account=self._account,
            folder=self.folder,
            raw=raw,
            source_key=message_id,
            received_at=_received(item.get("receivedDateTime")),
        )

    def _cursor(self, since: date, link: str, kind: str) -> dict[str, Any]:
        return {
            "v": CURSOR_VERSION,
            "folder": self.folder,
            "since": since.isoformat(),
            "link": link,
            "link_kind": kind,
        }

    # --- marking ---------------------------------------------------------------------------------

    def mark_processed(self, ref: MessageRef) -> None:
        """Add the category or move the message; doing it twice changes nothing."""
        if not ref.source_key:
            return
        if self.processed.action == "move":
            self._move(ref.source_key, self.processed.folder)
            return
        path = f"/me/messages/{ref.source_key}"
        try:
            current = self.client.get_json(path, params={"$select": "categories"}, headers=self.headers)
        except RemoteNotFoundError:
            return
        categories = [str(c) for c in current.get("categories", [])]
        if self.processed.category in categories:
            return
        self.client.request(
            "PATCH", path, json={"categories": [*categories, self.processed.category]}, headers=self.headers
        )

    def mark_answered(self, ref: MessageRef) -> None:
        """Mark the original as replied to (as Outlook shows it)."""
        if not ref.source_key:
            return
        properties = [
            {"id": _LAST_VERB_EXECUTED, "value": _REPLIED},
            {"id": _ICON_INDEX, "value": _REPLIED_ICON},
        ]
        try:
            self.client.request(
                "PATCH",
                f"/me/messages/{ref.source_key}",
                json={"singleValueExtendedProperties": properties},
                headers=self.headers,
            )
        except RemoteNotFoundError:
            return

    def _move(self, message_id: str, folder: str) -> None:
        try:
            self.client.request(
                "POST",
                f"/me/messages/{message_id}/move",
                json={"destinationId": self._folder_id(folder)},
                headers=self.headers,
                applies_effect=True,
            )
        except RemoteNotFoundError:
            return  # moved (or removed) already

    def _folder_id(self, name: str) -> str:
        """The id of the top-level folder called ``name`` (created when missing)."""
        if name in self._folder_ids:
            return self._folder_ids[name]
        found = self.client.get_json(
            "/me/mailFolders",
            params={"$filter": f"displayName eq {odata_quote(name)}", "$select": "id,displayName"},
        )
        matches = [f for f in found.get("value", []) if isinstance(f, dict) and "id" in f]
        if matches:
            folder_id = str(matches[0]["id"])
        else:
            created = self.client.request("POST", "/me/mailFolders", json={"displayName": name}).json()
            folder_id = str(created["id"])
        self._folder_ids[name] = folder_id
        return folder_id

    def close(self) -> None:
        """Stop the download threads and close the mailbox's HTTP client (shared with its sender)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()
