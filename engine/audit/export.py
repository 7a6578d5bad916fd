"""Writing audit exports (JSON Lines and CSV), streaming, and the entry points to read and verify them.

Both formats hold one header record, one record per event in sequence order, and one footer
record, as ``docs/audit-log.md`` ("Export files") specifies. The writers copy the stored events
faithfully — a damaged log exports as it is, and verifying the export then names the damage.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, TextIO

from engine.audit.event import AuditEvent
from engine.audit.export_format import (
    CSV_COLUMNS,
    EVENT_FIELDS,
    ExportFilter,
    ExportFooter,
    ExportFormatError,
    ExportHeader,
    event_to_json,
)
from engine.audit.export_reader import ExportEvents, detect_format, read_export
from engine.audit.export_verify import ExportVerifyResult, verify_export

__all__ = [
    "ExportEvents",
    "ExportFilter",
    "ExportFooter",
    "ExportFormat",
    "ExportFormatError",
    "ExportHeader",
    "ExportVerifyResult",
    "detect_format",
    "export_file",
    "read_export",
    "verify_export",
    "write_csv",
    "write_jsonl",
]

ExportFormat = Literal["csv", "jsonl"]

#: The UTF-8 byte-order mark a CSV export starts with, so spreadsheet programs detect UTF-8.
CSV_BOM = "\ufeff"

_JSONL = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
_CELL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_jsonl(out: TextIO, header: ExportHeader, events: Iterable[AuditEvent]) -> ExportFooter:
    """Write a JSON Lines export of ``events`` to ``out``; return the footer written.

    ``out`` is a text stream opened with ``encoding="utf-8", newline=""`` (every line ends in LF).
    The output is pure ASCII: characters beyond it are written as JSON ``\\u`` escapes.
    """
    out.write(_JSONL.encode({"type": "header", **header.to_json()}) + "\n")
    count = 0
    last_hash: str | None = None
    for event in events:
        out.write(_JSONL.encode({"type": "event", **event_to_json(event)}) + "\n")
        count += 1
        last_hash = event.hash
    footer = ExportFooter(count=count, last_hash=last_hash)
    out.write(_JSONL.encode({"type": "footer", **footer.to_json()}) + "\n")
    return footer


def write_csv(out: TextIO, header: ExportHeader, events: Iterable[AuditEvent]) -> ExportFooter:
    """Write a CSV export of ``events`` to ``out``; return the footer written.

    ``out`` is a text stream opened with ``encoding="utf-8", newline=""``. The file starts with a
    byte-order mark and the column-names row; records follow RFC 4180 (CRLF, ``"`` quoting).
    """
    out.write(CSV_BOM)
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    blanks = [""] * len(EVENT_FIELDS)
    writer.writerow(["header", *blanks, _CELL_JSON.encode(header.to_json())])
    count = 0
    last_hash: str | None = None
    for event in events:
        writer.writerow(_csv_event_row(event))
        count += 1
        last_hash = event.hash
    footer = ExportFooter(count=count, last_hash=last_hash)
    writer.writerow(["footer", *blanks, _CELL_JSON.encode(footer.to_json())])
    return footer


def _csv_event_row(event: AuditEvent) -> list[str]:
    return [
        "event",
        str(event.seq),
        event.ts,
        "" if event.run_id is None else event.run_id,
        "" if event.email_ref is None else event.email_ref,
        event.actor,
        event.action,
        _CELL_JSON.encode(list(event.data_categories)),
        event.destination,
        event.outcome,
        _CELL_JSON.encode(event.detail),
        event.prev_hash,
        event.hash,
        "",
    ]


def export_file(
    path: Path, fmt: ExportFormat, header: ExportHeader, events: Iterable[AuditEvent]
) -> ExportFooter:
    """Write an export to ``path`` atomically (a temporary file beside it, flushed, then renamed).

    Returns the footer; compare it with ``header`` to learn whether the stored events matched the
    range the header announced (verifying the file says the same, with the reason).
    """
    writer = write_csv if fmt == "csv" else write_jsonl
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as out:
            footer = writer(out, header, events)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return footer
