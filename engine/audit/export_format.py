"""The records of an audit export (header, event, footer) and their JSON shapes.

Both export formats (JSON Lines and CSV) carry the same three kinds of record; ``docs/audit-log.md``
("Export files") specifies them for outsiders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.audit.chain import format_ts
from engine.audit.event import AuditEvent
from engine.audit.signing import Anchor
from engine.errors import EngineError

__all__ = [
    "CSV_COLUMNS",
    "EVENT_FIELDS",
    "EXPORT_FORMAT",
    "EXPORT_FORMAT_VERSION",
    "ExportFilter",
    "ExportFooter",
    "ExportFormatError",
    "ExportHeader",
    "event_from_json",
    "event_to_json",
]

#: Value of the header's ``format`` member: identifies the file as an Inbox Triage audit export.
EXPORT_FORMAT = "inbox-triage-audit-export"

#: Value of the header's ``format_version`` member for the layout this module writes.
EXPORT_FORMAT_VERSION = 1

#: The chained fields of an event, in the order exports write them.
EVENT_FIELDS: tuple[str, ...] = (
    "seq", "ts", "run_id", "email_ref", "actor", "action", "data_categories", "destination",
    "outcome", "detail", "prev_hash", "hash",
)

#: Column names of a CSV export (its first row).
CSV_COLUMNS: tuple[str, ...] = ("record_type", *EVENT_FIELDS, "meta")


class ExportFormatError(EngineError):
    """An export file is not laid out as ``docs/audit-log.md`` specifies; ``line`` is 1-based."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True)
class ExportFilter:
    """The time window asked for: events from ``since`` (inclusive) to ``until`` (exclusive)."""

    since: str | None
    until: str | None


@dataclass(frozen=True)
class ExportHeader:
    """What an export says about itself and about the whole log at the time of export.

    ``first_seq``..``last_seq`` (``count`` events) is the contiguous slice the file holds and
    ``prev_hash_of_first`` the hash its first event links to. ``head_seq``/``head_hash`` are the
    whole log's newest event when exported, and ``anchor`` (None when signing was unavailable) is
    the signature of that head. ``filter`` records a ``--since``/``--until`` request.
    """

    format_version: int
    exported_at: str
    first_seq: int | None
    last_seq: int | None
    count: int
    prev_hash_of_first: str | None
    head_seq: int | None
    head_hash: str | None
    anchor: Anchor | None
    filter: ExportFilter | None

    @classmethod
    def for_slice(
        cls,
        *,
        exported_at: datetime,
        first_seq: int | None,
        last_seq: int | None,
        prev_hash_of_first: str | None,
        head_seq: int | None,
        head_hash: str | None,
        anchor: Anchor | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> ExportHeader:
        """The header of an export of events ``first_seq``..``last_seq`` (both None for no events)."""
        if (first_seq is None) != (last_seq is None):
            raise ValueError("first_seq and last_seq must both be given or both be None")
        count = 0 if first_seq is None or last_seq is None else last_seq - first_seq + 1
        if count < 0:
            raise ValueError(f"last_seq {last_seq} is before first_seq {first_seq}")
        window = ExportFilter(since, until) if since is not None or until is not None else None
        return cls(
            format_version=EXPORT_FORMAT_VERSION,
            exported_at=format_ts(exported_at),
            first_seq=first_seq,
            last_seq=last_seq,
            count=count,
            prev_hash_of_first=prev_hash_of_first if count else None,
            head_seq=head_seq,
            head_hash=head_hash,
            anchor=anchor,
            filter=window,
        )

    def to_json(self) -> dict[str, Any]:
        """The header's members as exports write them (without the record type)."""
        return {
            "format": EXPORT_FORMAT,
            "format_version": self.format_version,
            "exported_at": self.exported_at,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "count": self.count,
            "prev_hash_of_first": self.prev_hash_of_first,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "anchor": self.anchor.to_json() if self.anchor else None,
            "filter": {"since": self.filter.since, "until": self.filter.until} if self.filter else None,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ExportHeader:
        """Parse a header record; :class:`ExportFormatError` when it is not one this module reads."""
        if obj.get("format") != EXPORT_FORMAT:
            raise ExportFormatError(f"not an Inbox Triage audit export (format is {obj.get('format')!r})")
        if obj.get("format_version") != EXPORT_FORMAT_VERSION:
            raise ExportFormatError(f"unsupported export format_version {obj.get('format_version')!r}")
        try:
            anchor = Anchor.from_json(obj["anchor"]) if obj["anchor"] is not None else None
            window = obj["filter"]
            header = cls(
                format_version=EXPORT_FORMAT_VERSION,
                exported_at=_text(obj["exported_at"], "exported_at"),
                first_seq=_opt_int(obj["first_seq"], "first_seq"),
                last_seq=_opt_int(obj["last_seq"], "last_seq"),
                count=_int(obj["count"], "count"),
                prev_hash_of_first=_opt_text(obj["prev_hash_of_first"], "prev_hash_of_first"),
                head_seq=_opt_int(obj["head_seq"], "head_seq"),
                head_hash=_opt_text(obj["head_hash"], "head_hash"),
                anchor=anchor,
                filter=None if window is None else ExportFilter(
                    _opt_text(window["since"], "filter.since"), _opt_text(window["until"], "filter.until")
                ),
            )
        except (KeyError, TypeError) as exc:
            raise ExportFormatError(f"the header lacks a member or has one of the wrong kind: {exc}") from exc
        except ValueError as exc:
            raise ExportFormatError(f"the header is malformed: {exc}") from exc
        return header


@dataclass(frozen=True)
class ExportFooter:
    """The last record: how many events the writer wrote and the last one's hash."""

    count: int
    last_hash: str | None

    def to_json(self) -> dict[str, Any]:
        """The footer's members as exports write them (without the record type)."""
        return {"count": self.count, "last_hash": self.last_hash}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ExportFooter:
        """Parse a footer record; :class:`ExportFormatError` when malformed."""
        try:
            return cls(count=_int(obj["count"], "count"), last_hash=_opt_text(obj["last_hash"], "last_hash"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ExportFormatError(f"the footer is malformed: {exc}") from exc


def event_to_json(event: AuditEvent) -> dict[str, Any]:
    """Every chained field of ``event``: ``data_categories`` as an array, ``detail`` as an object."""
    return {
        "seq": event.seq,
        "ts": event.ts,
        "run_id": event.run_id,
        "email_ref": event.email_ref,
        "actor": event.actor,
        "action": event.action,
        "data_categories": list(event.data_categories),
        "destination": event.destination,
        "outcome": event.outcome,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def event_from_json(obj: Mapping[str, Any]) -> AuditEvent:
    """An event from its exported members, taken as given (verification checks the values).

    Raises :class:`ExportFormatError` when a member is missing or unknown, or when
    ``data_categories`` is not an array.
    """
    names = set(obj) - {"type"}
    if names != set(EVENT_FIELDS):
        missing = sorted(set(EVENT_FIELDS) - names)
        extra = sorted(names - set(EVENT_FIELDS))
        raise ExportFormatError(f"an event record has missing members {missing} or unknown ones {extra}")
    categories = obj["data_categories"]
    if not isinstance(categories, list):
        raise ExportFormatError("an event's data_categories is not an array")
    return AuditEvent(
        seq=obj["seq"],
        ts=obj["ts"],
        run_id=obj["run_id"],
        email_ref=obj["email_ref"],
        actor=obj["actor"],
        action=obj["action"],
        data_categories=tuple(categories),
        destination=obj["destination"],
        outcome=obj["outcome"],
        detail=obj["detail"],
        prev_hash=obj["prev_hash"],
        hash=obj["hash"],
    )


def _int(value: object, name: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{name} is not an integer")
    return value


def _opt_int(value: object, name: str) -> int | None:
    return None if value is None else _int(value, name)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _opt_text(value: object, name: str) -> str | None:
    return None if value is None else _text(value, name)
