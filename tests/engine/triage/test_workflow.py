"""The triage workflow end to end on the embedded defaults: demo mailbox, local outbox, local CRM."""

from __future__ import annotations

import email
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.demo import QUARANTINE, demo_mailbox_dir, demo_manifest
from connectors.local_folder import EmlFolderSource, demo_source
from connectors.outbox import OutboxFolderSender
from engine import audit_ops
from engine.errors import InvalidStateError, OutcomeUnknownError, TransientError
from engine.mail.parse import peek_message_id
from engine.ports import EffectReceipt, OutgoingReply
from engine.profile import Profile
from engine.review import DraftEdit
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings, Policy
from tests.engine.conftest import FakeClock

OFFICE = OfficeSettings(
    office_name="Thornbury & Webb", reply_from="hello@thornburywebb.co.uk", user_name="Alice"
)


class FlakySender:
    """Wraps the outbox: can refuse (nothing sent) or lose the answer after writing the reply."""

    def __init__(self, inner: OutboxFolderSender) -> None:
        self.inner = inner
        self.destination = "local"
        self.refuse = 0
        self.lose_answer = 0
        self.sends = 0

    def send(self, reply: OutgoingReply) -> EffectReceipt:
        if self.refuse:
            self.refuse -= 1
            raise TransientError("SMTP server unavailable (421)")
        self.sends += 1
        receipt = self.inner.send(reply)
        if self.lose_answer:
            self.lose_answer -= 1
            raise OutcomeUnknownError("connection dropped after DATA")
        return receipt

    def find_sent(self, reply: OutgoingReply) -> EffectReceipt | None:
        return self.inner.find_sent(reply)


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> Iterator[TriageService]:
    profile = Profile(tmp_path / "profile")
    db = open_database(profile)
    sender = FlakySender(OutboxFolderSender(profile.outbox_dir))
    svc = TriageService(profile, db, Connections(sender=sender, sources={"demo": demo_source()}), now=clock)
    svc.settings.save_office(OFFICE, actor=None)
    yield svc
    svc.close()


def outbox(service: TriageService) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(service.profile.outbox_dir.glob("*.eml"))
    ]


def sender(service: TriageService) -> FlakySender:
    assert isinstance(service.connections.sender, FlakySender)
    return service.connections.sender


def test_demo_mailbox_is_triaged_as_the_office_would(service: TriageService) -> None:
    report = service.poll()
    manifest = {e.file: e for e in demo_manifest()}
    assert report.ingest.new_runs == len(manifest)
    runs = service.queries.runs(limit=500)
    by_key = {r.message_id: r for r in runs}
    assert len(runs) == len(manifest)
    correct = 0
    scored = 0
    for run in runs:
        assert run.state in ("waiting_review", "completed", "quarantined"), (run.run_id, run.state, run.error)
    quarantined = [r for r in runs if r.state == "quarantined"]
    assert len(quarantined) == sum(1 for e in manifest.values() if e.expected == QUARANTINE)
    assert all(r.error and r.error[0].isupper() for r in quarantined), "a plain-English reason"
    expected = {
        peek_message_id((demo_mailbox_dir() / e.file).read_bytes()): e.expected
        for e in manifest.values()
        if e.expected != QUARANTINE
    }
    for run in runs:
        if run.state == "quarantined" or run.message_id not in expected:
            continue
        scored += 1
        correct += expected[run.message_id] == run.category
    assert scored >= 40
    assert correct / scored >= 0.85
    closed = [r for r in runs if r.state == "completed"]
    assert closed and {r.category for r in closed} <= {"spam", "notification"}
    assert all(r.outcome == "no_reply" for r in closed)
    assert by_key  # Message-IDs are kept
    assert not outbox(service), "nothing is auto-sent by default"


def test_each_step_leaves_its_audit_event_and_local_effects(service: TriageService) -> None:
    service.poll()
    item = service.queries.queue()[0]
    detail = service.queries.queue_item(item.run_id)
    actions = [e.action for e in detail.history]
    assert actions == [
        "email.received",
        "email.parsed",
        "email.minimised",
        "email.classified",
        "crm.logged",
        "draft.created",
        "review.queued",
    ]
    parsed = detail.history[1]
    assert "message_body" in parsed.data_categories and parsed.destination == "local"
    assert detail.draft is not None and detail.draft.body
    assert detail.draft.subject.startswith("Re: ")
    assert detail.reasons
    activities = service.queries.activities(limit=500)
    assert len({a.run_id for a in activities}) == len(activities)
    assert item.run_id in {a.run_id for a in activities}


def test_ingesting_twice_or_from_another_account_creates_nothing(
    service: TriageService, tmp_path: Path
) -> None:
    first = service.poll()
    again = service.poll()
    assert first.ingest.new_runs == 52 and again.ingest.new_runs == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    copied = sorted(demo_mailbox_dir().glob("*.eml"))[:12]
    for path in copied:
        (copy / path.name).write_bytes(path.read_bytes())
    without_id = sum(1 for p in copied if peek_message_id(p.read_bytes()) is None)
    report = service.ingest(EmlFolderSource(copy, account="other"))
    # Same Message-ID from another account: deduped. Only messages without one are new identities.
    assert report.new_runs == without_id
    assert report.duplicates == len(copied) - without_id
    assert service.queries.count_runs() == 52 + without_id


def test_approve_sends_once_with_reply_headers(service: TriageService) -> None:
    service.poll()
    item = service.queries.queue()[0]
    service.approve(item.run_id, edit=DraftEdit(body="Thank you — we will reprint today.\n\nAlice"))
    service.process()
    [reply] = outbox(service)
    assert reply["In-Reply-To"] == item.message_id
    assert item.message_id in str(reply["References"])
    assert str(reply["Subject"]).count("Re:") == 1
    assert "reprint today" in reply.get_content()
    done = service.queries.run(item.run_id)
    assert (done.state, done.outcome) == ("completed", "sent")
    sent = [e for e in service.queries.queue_item(item.run_id).history if e.action == "reply.sent"]
    assert sent[0].actor == "user:Alice" and sent[0].destination == "local"
    with pytest.raises(InvalidStateError):
        service.approve(item.run_id)


def test_lost_answer_is_reconciled_and_not_sent_twice(service: TriageService, clock: FakeClock) -> None:
    service.poll()
    item = service.queries.queue()[0]
    sender(service).lose_answer = 1
    service.approve(item.run_id)
    service.process()
    assert service.queries.run(item.run_id).state == "retrying"
    clock.advance(600)
    service.process()
    assert service.queries.run(item.run_id).outcome == "sent"
    assert sender(service).sends == 1
    assert len(outbox(service)) == 1
    assert "effect.reconciled" in [e.action for e in service.queries.queue_item(item.run_id).history]


def test_sender_down_waits_and_retries_then_fails_visibly(service: TriageService, clock: FakeClock) -> None:
    service.poll()
    item = service.queries.queue()[0]
    sender(service).refuse = 99
    service.approve(item.run_id)
    for _ in range(6):
        service.process()
        clock.advance(3600)
    failed = service.queries.run(item.run_id)
    assert failed.state == "failed" and "unavailable" in (failed.error or "")
    sender(service).refuse = 0
    service.retry(item.run_id)
    service.process()
    assert service.queries.run(item.run_id).outcome == "sent"
    assert len(outbox(service)) == 1


def test_undo_window_holds_the_send(service: TriageService, clock: FakeClock) -> None:
    service.poll()
    item = service.queries.queue()[0]
    service.approve(item.run_id, undo_s=10)
    service.process()
    assert not outbox(service)
    service.undo_approval(item.run_id)
    assert service.queries.run(item.run_id).state == "waiting_review"
    service.approve(item.run_id, undo_s=10)
    clock.advance(11)
    service.process()
    assert len(outbox(service)) == 1
    with pytest.raises(InvalidStateError):
        service.undo_approval(item.run_id)


def test_reject_sends_nothing(service: TriageService) -> None:
    service.poll()
    item = service.queries.queue()[0]
    service.reject(item.run_id, reason="Answered by phone")
    service.process()
    assert service.queries.run(item.run_id).outcome == "rejected"
    assert not outbox(service)


def test_auto_send_needs_threshold_and_no_flags(service: TriageService) -> None:
    service.settings.save_policy(Policy("enquiry", mode="auto_send", threshold=0.0), actor="Alice")
    service.settings.save_policy(Policy("order", mode="auto_send", threshold=1.0), actor="Alice")
    service.poll()
    runs = service.queries.runs(limit=500)
    enquiries = [r for r in runs if r.category == "enquiry"]
    orders = [r for r in runs if r.category == "order"]
    assert enquiries and orders
    unflagged = [r for r in enquiries if not r.flags]
    assert unflagged and all(r.outcome == "sent" for r in unflagged)
    assert all(r.state == "waiting_review" for r in orders), "confidence below 1.0 waits for review"
    assert all(r.state == "waiting_review" for r in enquiries if r.flags)
    replies = outbox(service)
    assert len(replies) == len(unflagged)
    auto = [e for e in service.queries.queue_item(unflagged[0].run_id).history if e.action == "reply.sent"]
    assert auto[0].actor == "system"


def test_reclassify_redrafts_and_teaches_the_model(service: TriageService) -> None:
    service.poll()
    item = next(r for r in service.queries.queue() if r.category != "billing")
    before = service.queries.queue_item(item.run_id).draft
    service.reclassify(item.run_id, "billing")
    after = service.queries.queue_item(item.run_id)
    assert after.summary.category == "billing" and after.summary.confidence == 1.0
    assert after.draft is not None and before is not None
    assert after.draft.template != before.template
    assert after.draft.template and "billing" in after.draft.template
    assert [c.category for c in service.corrections()] == ["billing"]


def test_retention_purge_keeps_waiting_items_and_the_chain(service: TriageService, clock: FakeClock) -> None:
    service.poll()
    waiting = service.queries.queue_count()
    clock.advance(timedelta(days=91).total_seconds())
    record = audit_ops.purge(service.db, retention_days=90, now=clock())
    finished = service.queries.count_runs(states=("completed", "quarantined"))
    assert record.messages == finished
    with service.db.read() as conn:
        kept = conn.execute(text("SELECT COUNT(*) FROM email_contents")).scalar_one()
    assert kept == waiting
    assert audit_ops.verify(service.db).ok
    actions = Counter(e.action for e in service.queries.audit_events(limit=10_000))
    assert actions["retention.purged"] == 2, "the poll's daily housekeeping, then this purge"


def test_prompt_injection_is_flagged_and_never_auto_sent(service: TriageService) -> None:
    for category in ("enquiry", "order", "other", "billing"):
        service.settings.save_policy(Policy(category, mode="auto_send", threshold=0.0), actor="Alice")
    service.poll()
    flagged = [r for r in service.queries.runs(limit=500) if "possible prompt injection" in r.flags]
    assert len(flagged) == 1
    [run] = flagged
    assert run.state == "waiting_review" and run.outcome is None
    detail = service.queries.queue_item(run.run_id)
    assert detail.draft is not None
    assert any("ignore previous instructions" in f for f in detail.draft.findings)
    assert "evil" not in detail.draft.body.lower()
    classified = next(e for e in detail.history if e.action == "email.classified")
    assert classified.detail["flags"] == ["possible prompt injection"]
    routed = next(e for e in detail.history if e.action == "review.queued")
    assert "flagged" in routed.detail["reason"]
