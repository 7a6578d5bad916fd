"""Reading audit exports (JSON Lines or CSV), streaming: the header first, then events one by one.

The events are returned as they are written — verification (:mod:`engine.audit.export_verify`)
judges them. Layout errors (a line that is not JSON, an unknown record type, a missing footer,
records after the footer) raise :class:`ExportFormatError` naming the line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, Literal

from engine.audit.event import AuditEvent
from engine.audit.export_format import (
    CSV_COLUMNS,
    EVENT_FIELDS,
    ExportFooter,
    ExportFormatError,
    ExportHeader,
    event_from_json,
)

__all__ = ["ExportEvents", "detect_format", "read_export"]

_SEQ_RE = re.compile(r"[1-9][0-9]*")
_META = len(CSV_COLUMNS) - 1


def detect_format(path: Path) -> Literal["csv", "jsonl"]:
    """``"jsonl"`` when the file starts with ``{``, ``"csv"`` when it starts with the CSV column row."""
    with path.open("rb") as handle:
        start = handle.read(64)
    if start.startswith(b"{"):
        return "jsonl"
    if start.removeprefix(b"\xef\xbb\xbf").startswith(b"record_type,"):
        return "csv"
    raise ExportFormatError("neither a JSON Lines nor a CSV audit export", line=1)


class ExportEvents(Iterator[AuditEvent]):
    """The events of an export, read lazily; ``footer`` is set once they have all been read."""

    def __init__(self, records: Iterator[tuple[int, str, Any]]) -> None:
        """Wrap a stream of (line, record type, payload) after the header."""
        self._records = records
        self.footer: ExportFooter | None = None
        self.footer_line: int | None = None

    def __iter__(self) -> ExportEvents:
        """The events themselves."""
        return self

    def __next__(self) -> AuditEvent:
        """The next event; ``StopIteration`` after the footer; ``ExportFormatError`` on bad layout."""
        if self.footer is not None:
            raise StopIteration
        try:
            line, kind, payload = next(self._records)
        except StopIteration:
            raise ExportFormatError("the export ends without a footer record (it was cut short)") from None
        if kind == "event":
            return payload  # type: ignore[no-any-return]
        if kind == "footer":
            self.footer = ExportFooter.from_json(payload)
            self.footer_line = line
            extra = next(self._records, None)
            if extra is not None:
                raise ExportFormatError("there are records after the footer", line=extra[0])
            raise StopIteration
        raise ExportFormatError(f"unexpected {kind!r} record among the events", line=line)


def read_export(path: Path) -> tuple[ExportHeader, ExportEvents]:
    """The header of the export at ``path`` and a lazy iterator over its events (either format).

    The file stays open while the iterator is in use and is closed when it is exhausted or
    discarded.
    """
    fmt = detect_format(path)
    records = _jsonl_records(path) if fmt == "jsonl" else _csv_records(path)
    try:
        line, kind, payload = next(records)
    except StopIteration:
        raise ExportFormatError("the export is empty") from None
    if kind != "header":
        records.close()
        raise ExportFormatError("the first record is not the header", line=line)
    try:
        header = ExportHeader.from_json(payload)
    except ExportFormatError as exc:
        records.close()
        raise ExportFormatError(str(exc), line=line) from exc
    return header, ExportEvents(records)


# --- JSON Lines --------------------------------------------------------------------------------


def _jsonl_records(path: Path) -> Generator[tuple[int, str, Any], None, None]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text = _utf8(raw, number)
            if not text.strip():
                raise ExportFormatError("blank line", line=number)
            obj = _loads(text, number)
            if not isinstance(obj, dict):
                raise ExportFormatError("a record is not a JSON object", line=number)
            kind = obj.get("type")
            if kind == "event":
                yield number, "event", _event(obj, number)
            elif kind in ("header", "footer"):
                yield number, kind, obj
            else:
                raise ExportFormatError(f"unknown record type {kind!r}", line=number)


def _utf8(raw: bytes, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportFormatError("the line is not valid UTF-8", line=line) from exc


def _loads(text: str, line: int) -> object:
    try:
        return json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except ValueError as exc:
        raise ExportFormatError(f"not valid JSON: {exc}", line=line) from exc


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("an object has the same member twice")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _event(obj: dict[str, Any], line: int) -> AuditEvent:
    try:
        return event_from_json(obj)
    except ExportFormatError as exc:
        raise ExportFormatError(str(exc), line=line) from exc


# --- CSV ---------------------------------------------------------------------------------------


def _csv_records(path: Path) -> Generator[tuple[int, str, Any], None, None]:
    with path.open("r", encoding="utf-8-sig", newline="", errors="strict") as handle:
        reader = csv.reader(handle, dialect="excel", strict=True)
        try:
            yield from _csv_rows(reader)
        except UnicodeDecodeError as exc:
            raise ExportFormatError(f"not valid UTF-8 near line {reader.line_num}") from exc
        except csv.Error as exc:
            raise ExportFormatError(f"not valid CSV: {exc}", line=reader.line_num) from exc


def _csv_rows(reader: Any) -> Iterator[tuple[int, str, Any]]:
    columns = next(reader, None)
    if columns is None or tuple(columns) != CSV_COLUMNS:
        raise ExportFormatError(f"the first row must name the columns {','.join(CSV_COLUMNS)}", line=1)
    for row in reader:
        line = reader.line_num
        if len(row) != len(CSV_COLUMNS):
            raise ExportFormatError(f"a row has {len(row)} cells instead of {len(CSV_COLUMNS)}", line=line)
        kind = row[0]
        if kind == "event":
            if row[_META]:
                raise ExportFormatError("an event row has a non-empty meta cell", line=line)
            yield line, "event", _csv_event(row, line)
        elif kind in ("header", "footer"):
            if any(row[1:_META]):
                raise ExportFormatError(f"a {kind} row has cells other than record_type and meta", line=line)
            meta = _loads(row[_META], line)
            if not isinstance(meta, dict):
                raise ExportFormatError(f"the {kind} meta cell is not a JSON object", line=line)
            yield line, kind, meta
        else:
            raise ExportFormatError(f"unknown record_type {kind!r}", line=line)


def _csv_event(row: list[str], line: int) -> AuditEvent:
    cells = dict(zip(EVENT_FIELDS, row[1:_META], strict=True))
    if _SEQ_RE.fullmatch(cells["seq"]) is None:
        raise ExportFormatError(f"seq {cells['seq']!r} is not a decimal number", line=line)
    categories = _loads(cells["data_categories"], line)
    detail = _loads(cells["detail"], line)
    if not isinstance(categories, list):
        raise ExportFormatError("the data_categories cell is not a JSON array", line=line)
    return AuditEvent(
        seq=int(cells["seq"]),
        ts=cells["ts"],
        run_id=cells["run_id"] or None,
        email_ref=cells["email_ref"] or None,
        actor=cells["actor"],
        action=cells["action"],
        data_categories=tuple(categories),
        destination=cells["destination"],
        outcome=cells["outcome"],
        detail=detail,  # type: ignore[arg-type]  # verification rejects a non-object
        prev_hash=cells["prev_hash"],
        hash=cells["hash"],
    )
