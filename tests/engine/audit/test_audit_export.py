"""Exports in both formats: round trips, and the engine and the independent tool agree on every verdict."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from engine.audit.chain import event_canonical_bytes
from engine.audit.event import GENESIS_HASH, AuditEvent
from engine.audit.export import (
    ExportFormat,
    ExportFormatError,
    ExportHeader,
    export_file,
    read_export,
    verify_export,
)
from engine.audit.export_format import CSV_COLUMNS
from engine.audit.signing import Anchor, AnchorSigner
from tests.engine.audit.helpers import TOOL, DictSecretStore, build_chain

FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")
EXPORTED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _export(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], store: DictSecretStore | None, *,
    first: int = 1, last: int | None = None, name: str = "export",
) -> Path:
    """Export events first..last of ``log`` (whose last event is the head), signed when ``store`` is given."""
    last = len(log) if last is None else last
    head = log[-1] if log else None
    anchor = AnchorSigner(store).sign_head(head.seq, head.hash, EXPORTED_AT) if store and head else None
    events = log[first - 1:last]
    header = ExportHeader.for_slice(
        exported_at=EXPORTED_AT,
        first_seq=events[0].seq if events else None, last_seq=events[-1].seq if events else None,
        prev_hash_of_first=events[0].prev_hash if events else None,
        head_seq=head.seq if head else None, head_hash=head.hash if head else None, anchor=anchor,
    )
    path = tmp_path / f"{name}.{fmt}"
    footer = export_file(path, fmt, header, iter(events))
    assert footer.count == len(events)
    return path


def _tool_verdict(
    tool: ModuleType, path: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code = tool.main([str(path), *args])
    return code, capsys.readouterr().out


# --- editing export files the way a tamperer would -------------------------------------------


class Editable:
    """An export's records as dicts, editable and writable back in the same format."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fmt = "jsonl" if path.suffix == ".jsonl" else "csv"
        if self.fmt == "jsonl":
            self.records = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
            assert tuple(rows[0]) == CSV_COLUMNS
            self.records = [self._from_row(row) for row in rows[1:]]

    @staticmethod
    def _from_row(row: list[str]) -> dict[str, Any]:
        cells = dict(zip(CSV_COLUMNS, row, strict=True))
        if cells["record_type"] != "event":
            return {"type": cells["record_type"], **json.loads(cells["meta"])}
        event: dict[str, Any] = {k: v for k, v in cells.items() if k not in ("record_type", "meta")}
        event.update(type="event", seq=int(event["seq"]), run_id=event["run_id"] or None,
                     email_ref=event["email_ref"] or None, detail=json.loads(event["detail"]),
                     data_categories=json.loads(event["data_categories"]))
        return event

    @staticmethod
    def _to_row(record: dict[str, Any]) -> list[str]:
        if record["type"] != "event":
            meta = {k: v for k, v in record.items() if k != "type"}
            return [record["type"], *[""] * 12, json.dumps(meta, ensure_ascii=False)]
        cells = [record["type"]]
        for name in CSV_COLUMNS[1:-1]:
            value = record[name]
            cells.append(json.dumps(value, ensure_ascii=False) if name in ("data_categories", "detail")
                         else "" if value is None else str(value))
        return [*cells, ""]

    def index(self, seq: int) -> int:
        return next(i for i, r in enumerate(self.records) if r["type"] == "event" and r["seq"] == seq)

    def event(self, seq: int) -> dict[str, Any]:
        return self.records[self.index(seq)]

    def save(self) -> Path:
        if self.fmt == "jsonl":
            lines = [json.dumps(r, separators=(",", ":")) + "\n" for r in self.records]
            self.path.write_text("".join(lines), "utf-8", newline="")
        else:
            out = io.StringIO(newline="")
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            writer.writerows(self._to_row(r) for r in self.records)
            self.path.write_text("\ufeff" + out.getvalue(), "utf-8", newline="")
        return self.path


def _rechain(records: list[dict[str, Any]], from_seq: int) -> None:
    """Recompute every hash from ``from_seq`` on, as someone rewriting history would."""
    prev = None
    for record in records:
        if record["type"] != "event":
            continue
        if record["seq"] >= from_seq:
            record["prev_hash"] = prev or record["prev_hash"]
            fields = {k: v for k, v in record.items() if k != "type"}
            event = AuditEvent(**{**fields, "data_categories": tuple(fields["data_categories"])})
            record["hash"] = hashlib.sha256(event_canonical_bytes(event)).hexdigest()
        prev = record["hash"]


def _tamper_detail(e: Editable) -> None:
    e.event(5)["detail"]["edited"] = True


def _tamper_email_ref_to_null(e: Editable) -> None:
    e.event(3)["email_ref"] = None


def _delete_event(e: Editable) -> None:
    del e.records[e.index(5)]


def _swap_events(e: Editable) -> None:
    i = e.index(5)
    e.records[i], e.records[i + 1] = e.records[i + 1], e.records[i]


def _change_hash(e: Editable) -> None:
    e.event(5)["hash"] = "e" * 64


def _rewrite_and_rechain_middle(e: Editable) -> None:
    e.event(5)["outcome"] = "rejected"
    e.event(5)["hash"] = "0" * 64  # placeholder; rechained below, but event 6 keeps its old prev_hash
    _rechain([e.event(5)], 5)


def _bad_signature(e: Editable) -> None:
    signature = e.records[0]["anchor"]["signature"]
    e.records[0]["anchor"]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]


def _delete_last_event(e: Editable) -> None:
    del e.records[e.index(12)]


def _drop_footer(e: Editable) -> None:
    e.records.pop()


def _float_in_detail(e: Editable) -> None:
    e.event(2)["detail"]["confidence"] = 0.87


def _rewrite_everything_after_signing(e: Editable) -> None:
    e.event(9)["actor"] = "user:Mallory"
    _rechain(e.records, 9)  # the chain verifies again, but the signed head no longer matches
    e.records[-1]["last_hash"] = e.event(12)["hash"]


TAMPERINGS: dict[str, tuple[Callable[[Editable], None], int, str]] = {
    # name: (edit, seq both verifiers must name, a word the engine's problem contains)
    "tampered detail": (_tamper_detail, 5, "altered"),
    "email_ref blanked": (_tamper_email_ref_to_null, 3, "altered"),
    "deleted event": (_delete_event, 5, "missing"),
    "reordered pair": (_swap_events, 5, "missing or out of order"),
    "changed hash": (_change_hash, 5, "altered"),
    "rewritten event, rechained": (_rewrite_and_rechain_middle, 6, "rewritten"),
    "bad signature": (_bad_signature, 12, "signature"),
    "deleted last event": (_delete_last_event, 12, "footer"),
    "cut short": (_drop_footer, 13, "cut short"),
    "float in detail": (_float_in_detail, 2, "floating-point"),
    "whole tail rewritten": (_rewrite_everything_after_signing, 12, "head"),
}


@pytest.fixture
def log() -> list[AuditEvent]:
    """Twelve varied events: the whole log; event 12 is the head."""
    return build_chain(12)


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_reads_back_exactly(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], secret_store: DictSecretStore
) -> None:
    path = _export(tmp_path, fmt, log, secret_store)
    header, events = read_export(path)
    assert list(events) == log
    assert events.footer is not None and events.footer.count == 12 and events.footer.last_hash == log[-1].hash
    assert header.count == 12 and header.first_seq == 1 and header.last_seq == 12
    assert header.prev_hash_of_first == GENESIS_HASH and header.head_hash == log[-1].hash
    assert header.anchor is not None and header.anchor.seq == 12


def test_csv_keeps_awkward_text_and_nulls_apart(tmp_path: Path, log: list[AuditEvent]) -> None:
    path = _export(tmp_path, "csv", log, None)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfrecord_type,seq,") and b"\r\n" in raw
    _, events = read_export(path)
    by_seq = {e.seq: e for e in events}
    assert by_seq[2].email_ref == 'odd, "ref"\r\n2'  # comma, quotes and CRLF inside one cell
    assert by_seq[4].run_id is None and by_seq[4].email_ref is None
    assert by_seq[2].detail["note"] == "line 1\nline 2\t\u001f"


def test_jsonl_is_ascii_with_one_record_per_line(tmp_path: Path, log: list[AuditEvent]) -> None:
    path = _export(tmp_path, "jsonl", log, None)
    raw = path.read_bytes()
    assert raw.isascii() and raw.endswith(b"\n") and raw.count(b"\n") == 14
    lines = raw.decode().split("\n")[:-1]
    assert [json.loads(line)["type"] for line in lines] == ["header", *["event"] * 12, "footer"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_replaces_the_file_only_when_complete(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent]
) -> None:
    path = _export(tmp_path, fmt, log, None)
    before = path.read_bytes()

    def failing() -> Any:
        yield log[0]
        raise RuntimeError("database went away")

    header, _ = read_export(path)
    with pytest.raises(RuntimeError):
        export_file(path, fmt, header, failing())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --- verdicts on intact exports --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_intact_signed_export_verifies_in_both_verifiers(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], secret_store: DictSecretStore,
    tool: ModuleType, capsys: pytest.CaptureFixture[str],
) -> None:
    path = _export(tmp_path, fmt, log, secret_store)
    key = AnchorSigner(secret_store).public_key_b64()
    result = verify_export(path, trusted_public_key=key)
    assert result.ok and result.count == 12 and result.reaches_head and result.signed
    assert result.public_key_b64 == key and result.notes == ()
    expected = f"OK: 12 events, head {log[-1].hash} (signed by {key})"
    assert result.summary() == expected
    assert _tool_verdict(tool, path, capsys, "--public-key", key) == (0, expected + "\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unsigned_export_verifies_but_says_so(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], tool: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _export(tmp_path, fmt, log, None)
    result = verify_export(path)
    assert result.ok and not result.signed and "not signed" in result.notes[0]
    code, out = _tool_verdict(tool, path, capsys)
    assert code == 0 and "UNSIGNED" in out
    code, out = _tool_verdict(tool, path, capsys, "--public-key", "A" * 43 + "=")
    assert code == 1 and "unsigned" in out
    assert not verify_export(path, trusted_public_key="A" * 43 + "=").ok


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_slice_verifies_its_own_chain_and_says_the_head_does_not_cover_it(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], secret_store: DictSecretStore,
    tool: ModuleType, capsys: pytest.CaptureFixture[str],
) -> None:
    path = _export(tmp_path, fmt, log, secret_store, first=4, last=9)
    result = verify_export(path)
    assert result.ok and result.count == 6 and result.first_seq == 4 and result.last_seq == 9
    assert not result.reaches_head and result.signed and "ask for a full export" in result.notes[-1]
    code, out = _tool_verdict(tool, path, capsys)
    assert code == 0 and out.startswith("OK: 6 events (seq 4 to 9") and "do not cover it" in out
    tail = _export(tmp_path, fmt, log, secret_store, first=10, name="tail")
    assert verify_export(tail).reaches_head
    assert _tool_verdict(tool, tail, capsys)[1].startswith(f"OK: 3 events, head {log[-1].hash}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_tampered_slice_fails(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], tool: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _export(tmp_path, fmt, log, None, first=4, last=9)
    edit = Editable(path)
    edit.event(6)["action"] = "email.deleted"
    edit.save()
    assert verify_export(path).first_bad_seq == 6
    code, out = _tool_verdict(tool, path, capsys)
    assert code == 1 and out.startswith("FAILED: event 6:")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_log_exports_and_verifies(
    tmp_path: Path, fmt: ExportFormat, tool: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _export(tmp_path, fmt, [], None)
    result = verify_export(path)
    assert result.ok and result.count == 0 and result.reaches_head
    assert result.summary() == "OK: 0 events (the log is empty)"
    assert _tool_verdict(tool, path, capsys) == (0, "OK: 0 events (the log is empty)\n")


# --- verdicts on tampered exports ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_both_verifiers_reject_tampering_and_name_the_seq(
    tmp_path: Path, fmt: ExportFormat, name: str, log: list[AuditEvent], secret_store: DictSecretStore,
    tool: ModuleType, capsys: pytest.CaptureFixture[str],
) -> None:
    edit_fn, seq, word = TAMPERINGS[name]
    path = _export(tmp_path, fmt, log, secret_store)
    edit = Editable(path)
    edit_fn(edit)
    edit.save()
    result = verify_export(path)
    assert not result.ok, name
    assert result.first_bad_seq == seq, result.problem
    assert word in (result.problem or ""), result.problem
    assert result.summary().startswith(f"FAILED: event {seq}")
    code, out = _tool_verdict(tool, path, capsys)
    assert code == 1 and out.startswith(f"FAILED: event {seq}: "), out


@pytest.mark.parametrize("fmt", FORMATS)
def test_layout_damage_is_reported_not_raised(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent]
) -> None:
    path = _export(tmp_path, fmt, log, None)
    data = path.read_bytes()
    cut = data[: len(data) // 2]  # half a record
    path.write_bytes(cut)
    result = verify_export(path)
    assert not result.ok and result.problem is not None
    path.write_bytes(b"hello")
    problem = verify_export(path).problem
    assert problem == "unreadable export: line 1: neither a JSON Lines nor a CSV audit export"
    with pytest.raises(ExportFormatError):
        read_export(path)


def test_jsonl_readers_refuse_repeated_members_and_records_after_the_footer(
    tmp_path: Path, log: list[AuditEvent], tool: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _export(tmp_path, "jsonl", log, None)
    lines = path.read_text().split("\n")
    lines[3] = lines[3][:-1] + ',"outcome":"ok"}'
    path.write_text("\n".join(lines))
    assert "same member twice" in (verify_export(path).problem or "")
    assert _tool_verdict(tool, path, capsys)[0] == 1
    path = _export(tmp_path, "jsonl", log, None, name="again")
    with path.open("a") as handle:
        handle.write(lines[4] + "\n")
    assert "after the footer" in (verify_export(path).problem or "")
    code, out = _tool_verdict(tool, path, capsys)
    assert code == 1 and "follows the footer" in out


# --- anchors kept from earlier exports -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_history_rewritten_and_resigned_is_caught_by_an_earlier_export(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], secret_store: DictSecretStore,
    tool: ModuleType, capsys: pytest.CaptureFixture[str],
) -> None:
    early = _export(tmp_path, fmt, log[:8], secret_store, name="early")  # last week's export, head 8
    # Someone with database access rewrites event 5, recomputes every later hash, and the app
    # (holding the key) signs the forged head at the next export: alone, it verifies.
    forged = log[:4]
    for event in log[4:]:
        outcome = "rejected" if event.seq == 5 else event.outcome
        changed = replace(event, prev_hash=forged[-1].hash, outcome=outcome)
        forged.append(replace(changed, hash=hashlib.sha256(event_canonical_bytes(changed)).hexdigest()))
    later = _export(tmp_path, fmt, forged, secret_store, name="later")
    assert verify_export(later).ok
    assert _tool_verdict(tool, later, capsys)[0] == 0
    earlier = _anchor_of(early)
    result = verify_export(later, earlier_anchors=[earlier])
    assert not result.ok and result.first_bad_seq == 8 and "rewritten" in (result.problem or "")
    code, out = _tool_verdict(tool, later, capsys, "--earlier", str(early))
    assert code == 1 and out.startswith("FAILED: event 8:")


@pytest.mark.parametrize("fmt", FORMATS)
def test_events_removed_from_the_end_are_caught_by_an_earlier_export(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], secret_store: DictSecretStore,
    tool: ModuleType, capsys: pytest.CaptureFixture[str],
) -> None:
    early = _export(tmp_path, fmt, log, secret_store, name="early")
    later = _export(tmp_path, fmt, log[:10], secret_store, name="later")
    assert verify_export(later).ok
    result = verify_export(later, earlier_anchors=[_anchor_of(early)])
    assert result.first_bad_seq == 12 and "removed" in (result.problem or "")
    code, out = _tool_verdict(tool, later, capsys, "--earlier", str(early))
    assert code == 1 and out.startswith("FAILED: event 12:") and "removed" in out
    honest = _export(tmp_path, fmt, [*log, *build_chain(14)[12:]], secret_store, name="honest")
    assert verify_export(honest, earlier_anchors=[_anchor_of(early)]).ok
    assert _tool_verdict(tool, honest, capsys, "--earlier", str(early))[0] == 0


def _anchor_of(path: Path) -> Anchor:
    header, _ = read_export(path)
    assert header.anchor is not None
    return header.anchor


# --- the tool stands alone -------------------------------------------------------------------

_ALLOWED_IMPORTS = {
    "__future__", "argparse", "base64", "binascii", "csv", "datetime", "hashlib", "itertools", "json", "re",
    "sys", "unicodedata", "collections", "dataclasses", "pathlib", "typing", "cryptography",
}


def test_the_tool_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(TOOL.read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= _ALLOWED_IMPORTS, imported - _ALLOWED_IMPORTS
    assert "engine" not in imported


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_tool_runs_as_a_standalone_command(
    tmp_path: Path, fmt: ExportFormat, log: list[AuditEvent], secret_store: DictSecretStore
) -> None:
    path = _export(tmp_path, fmt, log, secret_store)
    # -I: isolated mode, so neither the repository nor PYTHONPATH is importable.
    command = [sys.executable, "-I", str(TOOL), str(path)]
    ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"OK: 12 events, head {log[-1].hash} (signed by ")
    edit = Editable(path)
    _tamper_detail(edit)
    edit.save()
    bad = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1 and bad.stdout.startswith("FAILED: event 5: ")
