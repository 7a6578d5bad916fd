"""The real engine sending through SMTP (aiosmtpd, STARTTLS) with its mail from Dovecot.

An approved reply arrives once with the right headers; a send that dies after the server
accepted it is not repeated (Sent reconciliation); with the SMTP server down the run waits and
retries, and nothing is lost.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.smtp import SmtpSender
from engine.profile import Profile
from engine.queries import AuditFilter
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings
from tests.connectors.imap.helpers import ImapHarness, message
from tests.connectors.smtp.helpers import smtp_sender
from tests.servers.smtp import SmtpServer


class Clock:
    """The service's clock, moved by hand to make retries due."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class Office:
    """A profile wired to Dovecot (source, Sent folder) and aiosmtpd (sender)."""

    service: TriageService
    clock: Clock
    imap: ImapHarness
    smtp: SmtpServer
    sender: SmtpSender

    def receive(self, number: int) -> int:
        """Deliver test message ``number`` to the inbox, poll, and return its run (waiting for review)."""
        uid = self.imap.dovecot.append(self.imap.dovecot.user, "INBOX", message(number))
        report = self.service.poll()
        assert report.errors == {}
        (run_id,) = report.ingest.new_run_ids or []
        assert self.service.queries.run(run_id).state == "waiting_review"
        self.uids[run_id] = uid
        return run_id

    def approve_and_process(self, run_id: int) -> str:
        self.service.approve(run_id, undo_s=0.0, actor="Alice")
        self.service.process()
        return self.service.queries.run(run_id).state

    def retry_later(self, run_id: int) -> str:
        self.clock.advance(3600)
        self.service.process()
        return self.service.queries.run(run_id).state

    def __post_init__(self) -> None:
        self.uids: dict[int, int] = {}


@pytest.fixture
def office(tmp_path: Path, imap: ImapHarness, smtp_starttls_server: SmtpServer) -> Iterator[Office]:
    profile = Profile(tmp_path / "profile")
    db = open_database(profile)
    clock = Clock()
    sender = smtp_sender(smtp_starttls_server, imap)
    source = imap.source()
    service = TriageService(profile, db, Connections(sender=sender, sources={"office": source}), now=clock)
    service.settings.save_office(
        OfficeSettings(
            office_name="Print Studio",
            user_name="Alice",
            reply_from="office@print.example",
            reply_from_name="Print Studio",
            message_id_domain="print.example",
        ),
        actor=None,
    )
    yield Office(service, clock, imap, smtp_starttls_server, sender)
    service.close()


def test_an_approved_reply_arrives_once_with_the_right_headers(office: Office) -> None:
    run_id = office.receive(1)
    assert office.approve_and_process(run_id) == "completed"
    (received,) = office.smtp.wait_for(1)
    reply = email.message_from_bytes(received.data, policy=email.policy.default)
    assert reply["In-Reply-To"] == "<msg-1@client.example>"
    assert reply["References"] == "<msg-1@client.example>"
    assert reply["Subject"] == "Re: Order 1"
    assert reply["To"] == "Sam Client <sam@client.example>"
    assert reply["Message-ID"].endswith("@print.example>")
    assert received.rcpt_tos == ("sam@client.example",)
    # The original is answered and processed; a copy of the reply is in Sent.
    flags = office.imap.flags(office.uids[run_id])
    assert {"\\Answered", "$Triaged"} <= flags
    assert len(office.imap.uids("Sent")) == 1
    # Nothing more happens on later passes.
    office.retry_later(run_id)
    assert len(office.smtp.messages) == 1


def test_a_send_that_died_after_the_server_accepted_it_is_not_repeated(office: Office) -> None:
    run_id = office.receive(2)
    office.smtp.drop_after_data(1)
    assert office.approve_and_process(run_id) == "retrying"
    assert "may have been sent" in (office.service.queries.run(run_id).error or "")
    assert len(office.smtp.wait_for(1)) == 1
    assert office.retry_later(run_id) == "completed"  # reconciled from the Sent folder
    assert len(office.smtp.messages) == 1
    assert len(office.imap.uids("Sent")) == 1
    reconciled = office.service.queries.audit_events(
        AuditFilter(actions=("effect.reconciled",), run_id=str(run_id))
    )
    assert len(reconciled) == 1
    assert reconciled[0].destination == "127.0.0.1"


def test_smtp_down_the_run_waits_and_retries_and_nothing_is_lost(office: Office) -> None:
    run_id = office.receive(3)
    office.smtp.stop()
    assert office.approve_and_process(run_id) == "retrying"
    assert "refused" in (office.service.queries.run(run_id).error or "")
    assert office.retry_later(run_id) == "retrying"  # still down: waits again
    office.smtp.start()
    assert office.retry_later(run_id) == "completed"
    (received,) = office.smtp.wait_for(1)
    assert b"Re: Order 3" in received.data
    assert len(office.imap.uids("Sent")) == 1
