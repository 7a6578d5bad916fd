"""Deciding what to fetch: the sync cursor and the plan for one pass over a folder.

**Cursor** (stored by the engine with each batch): ``{"v": 1, "folder", "uidvalidity", "last_uid",
"since", "complete", "modseq"}``. Every message with a UID up to ``last_uid`` has been handed to
the engine (or lay before the first-sync window). ``since`` is the first-sync window's first day:
on first connect only mail that arrived on or after it is fetched (``SINCE``), so a ten-year
archive is left alone. ``complete`` is false while that first pass is still under way (so a crash
mid-way resumes inside the window); afterwards every new UID is fetched whatever its date.
``modseq`` is the folder's HIGHESTMODSEQ (CONDSTORE) when the last complete pass started.

**Nothing new** is decided from SELECT alone: the same UIDVALIDITY and either the same
HIGHESTMODSEQ (CONDSTORE) or a UIDNEXT no higher than ``last_uid + 1``.

**UIDVALIDITY changed** (the server renumbered the folder): the old UIDs mean nothing, so the
folder is synced again from ``since``; the engine drops what it already has by Message-ID.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from connectors.imap.client import FolderStatus

CURSOR_VERSION = 1
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class SyncCursor:
    """Where the last pass over a folder stopped (see the module docstring)."""

    folder: str
    uidvalidity: int
    last_uid: int
    since: date
    complete: bool
    modseq: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON the engine stores."""
        return {
            "v": CURSOR_VERSION,
            "folder": self.folder,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "since": self.since.isoformat(),
            "complete": self.complete,
            "modseq": self.modseq,
        }

    @staticmethod
    def from_json(data: Any) -> SyncCursor | None:
        """A cursor from stored JSON, or None when there is none or it is not one of ours."""
        if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
            return None
        try:
            modseq = data.get("modseq")
            return SyncCursor(
                folder=str(data["folder"]),
                uidvalidity=int(data["uidvalidity"]),
                last_uid=int(data["last_uid"]),
                since=date.fromisoformat(str(data["since"])),
                complete=bool(data["complete"]),
                modseq=int(modseq) if modseq is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class SyncPlan:
    """One pass: where it starts, and whether there is anything to search for at all."""

    start: SyncCursor
    kind: str
    nothing_new: bool

    def search_criteria(self) -> tuple[str, ...]:
        """UID SEARCH criteria for the messages this pass hands over."""
        criteria: tuple[str, ...] = (f"UID {self.start.last_uid + 1}:*",)
        if not self.start.complete:
            criteria += ("SINCE", imap_date(self.start.since))
        return criteria

    def finished(self, status: FolderStatus, last_uid: int) -> SyncCursor:
        """The cursor after the pass handed over everything up to ``last_uid``."""
        covered = last_uid
        if status.uidnext is not None:
            covered = max(covered, status.uidnext - 1)
        # Without a fresh HIGHESTMODSEQ the old one is kept: the server's only grows, so an old value
        # can never make a later poll think nothing changed.
        modseq = status.highestmodseq if status.highestmodseq is not None else self.start.modseq
        return replace(self.start, last_uid=max(self.start.last_uid, covered), complete=True, modseq=modseq)


def imap_date(day: date) -> str:
    """A date as IMAP SEARCH wants it: ``5-Mar-2026`` (English month names whatever the locale)."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"


def plan_sync(
    previous: SyncCursor | None, status: FolderStatus, *, folder: str, today: date, first_sync_days: int
) -> SyncPlan:
    """Decide how to sync ``folder`` given the stored cursor and what SELECT just reported."""
    if previous is None or previous.folder != folder:
        since = today - timedelta(days=first_sync_days)
        start = SyncCursor(folder, status.uidvalidity, 0, since, complete=False)
        return SyncPlan(start, "first", nothing_new=False)
    if previous.uidvalidity != status.uidvalidity:
        start = SyncCursor(folder, status.uidvalidity, 0, previous.since, complete=False)
        return SyncPlan(start, "resync", nothing_new=False)
    if not previous.complete:
        return SyncPlan(previous, "resume", nothing_new=False)
    return SyncPlan(previous, "incremental", nothing_new=_nothing_new(previous, status))


def _nothing_new(previous: SyncCursor, status: FolderStatus) -> bool:
    if status.exists == 0:
        return True
    if status.highestmodseq is not None and previous.modseq == status.highestmodseq:
        return True
    return status.uidnext is not None and status.uidnext <= previous.last_uid + 1
