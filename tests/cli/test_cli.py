"""The command line end to end on a demo profile: triage, review, CRM, policy, audit."""

from __future__ import annotations

import email
import json
import sqlite3
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from tests.cli.helpers import Cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: object) -> Cli:
    cli = Cli(tmp_path / "demo", capsys)
    code, _, err = cli("demo", "--headless")
    assert code == 0, err
    return cli


def test_demo_triages_every_email(demo: Cli) -> None:
    runs = demo.json("runs", "list", "--limit", "500")
    states = {r["state"] for r in runs}
    assert states <= {"waiting_review", "completed", "quarantined"}
    assert len(runs) >= 45
    by_state = {s: [r for r in runs if r["state"] == s] for s in states}
    assert len(by_state["quarantined"]) >= 3
    closed = by_state["completed"]
    assert closed and all(r["category"] in ("spam", "notification") for r in closed)
    assert all(r["outcome"] == "no_reply" for r in closed)
    for field in ("run_id", "state", "category", "confidence", "message_id", "from", "subject", "error"):
        assert field in runs[0]


def test_queue_lists_complaints_first_and_shows_an_item(demo: Cli) -> None:
    queue = demo.json("queue", "list")
    assert queue, "the demo leaves items for review"
    rank = {"complaint": 2, "cancellation": 1}
    ranks = [rank.get(q["category"], 0) for q in queue]
    assert ranks[0] == 2, "complaints come first"
    assert ranks == sorted(ranks, reverse=True)
    item = demo.json("queue", "show", str(queue[0]["run_id"]))
    assert item["draft"]["body"] and item["draft"]["to"]
    assert item["reasons"]
    assert [h["action"] for h in item["history"]][:2] == ["email.received", "email.parsed"]


def test_approve_puts_one_reply_in_the_outbox_and_audits_the_person(demo: Cli) -> None:
    item = demo.json("queue", "list")[0]
    code, out, err = demo("queue", "approve", str(item["run_id"]))
    assert code == 0, err
    assert "sent" in out
    replies = list((demo.profile / "outbox").glob("*.eml"))
    assert len(replies) == 1
    reply = email.message_from_bytes(replies[0].read_bytes(), policy=policy.default)
    shown = demo.json("queue", "show", str(item["run_id"]))
    assert reply["In-Reply-To"] == item["message_id"]
    assert str(reply["Subject"]).startswith("Re: ") and not str(reply["Subject"]).startswith("Re: Re:")
    assert shown["outcome"] == "sent" and shown["state"] == "completed"
    approvals = [h for h in shown["history"] if h["action"] == "review.approved"]
    assert approvals and approvals[0]["actor"].startswith("user:")
    # Approving again is refused: nothing is sent twice.
    code, _, err = demo("queue", "approve", str(item["run_id"]))
    assert code == 1 and "not waiting for review" in err
    assert len(list((demo.profile / "outbox").glob("*.eml"))) == 1


def test_approve_with_edited_body(demo: Cli, tmp_path: Path) -> None:
    item = demo.json("queue", "list")[0]
    body = tmp_path / "body.txt"
    body.write_text("Thanks — we are on it.\n\nThornbury & Webb", encoding="utf-8")
    code, _, err = demo("queue", "approve", str(item["run_id"]), "--body-file", str(body))
    assert code == 0, err
    [reply] = (demo.profile / "outbox").glob("*.eml")
    message = email.message_from_bytes(reply.read_bytes(), policy=policy.default)
    assert "we are on it" in message.get_content()
    history = demo.json("queue", "show", str(item["run_id"]))["history"]
    assert "draft.edited" in [h["action"] for h in history]


def test_reject_sends_nothing(demo: Cli) -> None:
    item = demo.json("queue", "list")[0]
    code, _, err = demo("queue", "reject", str(item["run_id"]), "--reason", "Handled by phone")
    assert code == 0, err
    assert not list((demo.profile / "outbox").glob("*.eml"))
    shown = demo.json("queue", "show", str(item["run_id"]))
    assert shown["outcome"] == "rejected"
    code, _, err = demo("queue", "reject", str(item["run_id"]), "--reason", "")
    assert code == 1


def test_reclassify_records_the_correction(demo: Cli) -> None:
    item = demo.json("queue", "list")[0]
    target = "billing" if item["category"] != "billing" else "order"
    code, _, err = demo("queue", "reclassify", str(item["run_id"]), target)
    assert code == 0, err
    shown = demo.json("queue", "show", str(item["run_id"]))
    assert shown["category"] == target and shown["confidence"] == 1.0
    assert any(h["action"] == "review.reclassified" for h in shown["history"])
    db = sqlite3.connect(demo.profile / "inbox-triage.db")
    assert db.execute("SELECT category FROM corrections").fetchall() == [(target,)]


def test_classify_has_no_side_effects(demo: Cli) -> None:
    before = len(demo.json("runs", "list", "--limit", "500"))
    sample = next((REPO / "connectors" / "demo" / "mailbox").glob("*.eml"))
    result = demo.json("classify", str(sample))
    assert set(result) == {"category", "confidence", "reasons"}
    assert 0.0 <= result["confidence"] <= 1.0
    assert len(demo.json("runs", "list", "--limit", "500")) == before


def test_policy_set_and_list(demo: Cli) -> None:
    code, _, err = demo("policy", "set", "enquiry", "--auto-send", "--threshold", "0.8")
    assert code == 0, err
    policies = {p["category"]: p for p in demo.json("policy", "list")}
    assert policies["enquiry"]["mode"] == "auto_send" and policies["enquiry"]["threshold"] == 0.8
    assert policies["spam"]["mode"] == "no_reply"
    code, _, err = demo("policy", "set", "enquiry", "--auto-send", "--threshold", "1.5")
    assert code == 1 and "between 0 and 1" in err
    code, _, err = demo("policy", "set", "spam", "--auto-send", "--threshold", "0.5")
    assert code == 1 and "never gets a reply" in err


def test_crm_contacts_and_activities_name_their_runs(demo: Cli) -> None:
    contacts = demo.json("crm", "contacts")
    activities = demo.json("crm", "activities")
    runs = {r["run_id"]: r for r in demo.json("runs", "list", "--limit", "500")}
    assert contacts and activities
    assert len({a["run_id"] for a in activities}) == len(activities)
    for activity in activities:
        assert activity["run_id"] in runs
        assert runs[activity["run_id"]]["from"].lower() == activity["contact_email"]


def test_audit_verify_export_and_tamper(demo: Cli, tmp_path: Path) -> None:
    result = demo.json("audit", "verify")
    assert result["ok"] and result["events"] > 100
    out = tmp_path / "audit.jsonl"
    exported = demo.json("audit", "export", "--format", "jsonl", "--out", str(out))
    assert exported["signed"] and exported["events"] == result["events"] + 1
    checked = subprocess.run(
        [sys.executable, str(REPO / "tools" / "verify_audit_export.py"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    csv_out = tmp_path / "audit.csv"
    assert demo.json("audit", "export", "--format", "csv", "--out", str(csv_out))["events"] > 100
    db = sqlite3.connect(demo.profile / "inbox-triage.db")
    db.execute("UPDATE audit_events SET actor = 'user:Mallory' WHERE seq = 17")
    db.commit()
    code, _, err = demo("audit", "verify")
    assert code == 1 and "event 17" in err


def test_audit_purge_keeps_the_chain(demo: Cli) -> None:
    code, _, err = demo("settings", "set", "retention.days", "1")
    assert code == 0, err
    purge = demo.json("audit", "purge")
    assert purge["retention_days"] == 1
    assert demo.json("audit", "verify")["ok"]


def test_usage_and_errors_have_their_exit_codes(demo: Cli) -> None:
    assert demo("queue", "frobnicate")[0] == 2
    code, _, err = demo("queue", "show", "99999")
    assert code == 1 and err.startswith("error:") and err.count("\n") == 1
    code, _, err = demo("settings", "set", "office.reply_from", "not-an-address")
    assert code == 1 and "Reply-from" in err


def test_console_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--profile", str(tmp_path / "p"), "policy", "list", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 8
