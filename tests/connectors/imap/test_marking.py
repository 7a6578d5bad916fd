"""Processed mail is flagged or moved as configured (never deleted); replies flag the original."""

from __future__ import annotations

import pytest

from connectors.imap.errors import ImapCapabilityError
from connectors.imap.source import ProcessedAction
from engine.ports import MessageRef, RawMessage
from tests.connectors.imap.helpers import ImapHarness, message


def _ref(raw: RawMessage, message_id: str | None = None) -> MessageRef:
    return MessageRef(raw.account, raw.folder, raw.uidvalidity, raw.uid, None, message_id)


def _fetch_one(
    imap: ImapHarness, source_processed: ProcessedAction | None = None
) -> tuple[RawMessage, object]:
    source = imap.source(processed=source_processed)
    (batch,) = list(source.fetch(None))
    return batch.messages[0], source


def test_processed_mail_gets_the_keyword_and_stays(imap: ImapHarness) -> None:
    (uid,) = imap.seed(1)
    source = imap.source()
    raw = next(iter(source.fetch(None))).messages[0]
    source.mark_processed(_ref(raw))
    source.mark_processed(_ref(raw))  # idempotent
    assert "$Triaged" in imap.flags(uid)
    assert "\\Seen" not in imap.flags(uid)
    assert imap.uids() == [uid]


def test_processed_flag_can_be_seen(imap: ImapHarness) -> None:
    (uid,) = imap.seed(1)
    source = imap.source(processed=ProcessedAction("flag", keyword="\\Seen"))
    raw = next(iter(source.fetch(None))).messages[0]
    source.mark_processed(_ref(raw))
    assert "\\Seen" in imap.flags(uid)


def test_processed_mail_is_moved_to_a_folder_created_on_first_use(imap: ImapHarness) -> None:
    uids = imap.seed(2)
    source = imap.source(processed=ProcessedAction("move", folder="Triaged/Done"))
    batch = next(iter(source.fetch(None)))
    source.mark_processed(_ref(batch.messages[0]))
    source.mark_processed(_ref(batch.messages[0]))  # already moved: nothing happens, no error
    assert imap.uids() == [uids[1]]
    moved = imap.uids("Triaged/Done")
    assert len(moved) == 1
    connection = imap.dovecot.connect()
    try:
        connection.select('"Triaged/Done"')
        _, data = connection.uid("FETCH", str(moved[0]), "(BODY.PEEK[])")
    finally:
        connection.logout()
    assert data[0][1] == message(1)


def test_move_without_the_move_extension_copies_and_expunges_only_that_message(imap: ImapHarness) -> None:
    uids = imap.seed(3)
    source = imap.source()
    client = source.session.run(lambda c: c)
    client.create("Done")
    client.select("INBOX")
    client.copy_then_expunge([uids[1]], "Done")
    assert imap.uids() == [uids[0], uids[2]]
    assert len(imap.uids("Done")) == 1


def test_answered_flag_on_the_original(imap: ImapHarness) -> None:
    (uid,) = imap.seed(1)
    source = imap.source()
    raw = next(iter(source.fetch(None))).messages[0]
    source.mark_answered(_ref(raw))
    assert "\\Answered" in imap.flags(uid)


def test_marking_after_renumbering_finds_the_message_by_message_id(imap: ImapHarness) -> None:
    imap.seed(3)
    source = imap.source()
    raws = [m for b in source.fetch(None) for m in b.messages]
    imap.dovecot.reset_uid_validity()
    target = raws[1]
    source.mark_answered(_ref(target, "<msg-2@client.example>"))
    flagged = [uid for uid in imap.uids() if "\\Answered" in imap.flags(uid)]
    assert len(flagged) == 1
    connection = imap.dovecot.connect()
    try:
        connection.select("INBOX")
        _, data = connection.uid("FETCH", str(flagged[0]), "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    finally:
        connection.logout()
    assert b"<msg-2@client.example>" in data[0][1]


def test_a_stale_reference_without_message_id_changes_nothing(imap: ImapHarness) -> None:
    uids = imap.seed(1)
    source = imap.source()
    raw = next(iter(source.fetch(None))).messages[0]
    stale = MessageRef(raw.account, raw.folder, (raw.uidvalidity or 0) + 1, raw.uid, None, None)
    source.mark_processed(stale)
    assert "$Triaged" not in imap.flags(uids[0])


def test_keyword_refused_when_the_folder_cannot_keep_keywords(imap: ImapHarness) -> None:
    imap.seed(1)
    source = imap.source()
    raw = next(iter(source.fetch(None))).messages[0]
    client = source.session.run(lambda c: c)
    # Pretend the server announced PERMANENTFLAGS without \* (as some hosted servers do).
    status = client.select("INBOX")
    client.selected = type(status)(
        **{**status.__dict__, "permanent_flags": frozenset({"\\Seen", "\\Answered"})}
    )
    with pytest.raises(ImapCapabilityError, match="choose"):
        source.mark_processed(_ref(raw))
