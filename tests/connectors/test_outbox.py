"""The local outbox sender: atomic, idempotent, and findable by Message-ID."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
import time
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from connectors.demo import demo_mailbox_dir
from connectors.errors import (
    ConflictError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    LocalMailboxError,
    LocalMailboxIOError,
)
from connectors.outbox import STALE_TEMP_SECONDS, OutboxFolderSender, outbox_file_name
from engine.errors import OutcomeUnknownError, PermanentError, TransientError
from engine.mail.model import Address, ParsedEmail
from engine.mail.parse import parse_message
from engine.mail.reply import build_reply
from engine.ports import MailSender, OutgoingReply


def demo_reply(key: str = "run-1/send") -> OutgoingReply:
    """A reply built by the engine to the first demo email."""
    original = parse_message((demo_mailbox_dir() / "01-christmas-flyers-quote.eml").read_bytes())
    assert isinstance(original, ParsedEmail)
    return build_reply(
        original,
        body_text="Dear Lucy,\n\nThank you, a quote follows.\n",
        from_address=Address("Thornbury & Webb", "hello@thornburywebb.co.uk"),
        idempotency_key=key,
        message_id_domain="thornburywebb.co.uk",
    )


def raw_reply(message_id: str) -> OutgoingReply:
    """A minimal reply carrying ``message_id`` (for odd ids the builder would never make)."""
    mime = (
        f"From: hello@thornburywebb.co.uk\nTo: a@example.com\nSubject: Re: x\nMessage-ID: {message_id}\n\n"
        "Thanks.\n"
    ).encode()
    return OutgoingReply(
        idempotency_key="k",
        message_id=message_id,
        from_address="hello@thornburywebb.co.uk",
        to=("a@example.com",),
        cc=(),
        subject="Re: x",
        body_text="Thanks.\n",
        in_reply_to=None,
        references=(),
        mime=mime,
    )


def eml_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".eml")


def test_send_writes_one_eml_named_from_the_message_id(tmp_path: Path) -> None:
    folder = tmp_path / "profile" / "outbox"  # created on first send
    sender = OutboxFolderSender(folder)
    assert isinstance(sender, MailSender)
    assert sender.destination == "local"
    reply = demo_reply()
    receipt = sender.send(reply)
    assert eml_files(folder) == [receipt.external_id] == [outbox_file_name(reply.message_id)]
    assert receipt.destination == "local"
    assert receipt.detail == {"size": len(reply.mime)}
    stored = (folder / receipt.external_id).read_bytes()
    assert stored == reply.mime
    parsed = message_from_bytes(stored, policy=policy.default)
    assert parsed["Message-ID"] == reply.message_id
    assert parsed["In-Reply-To"] == "<CAHx7e1Ld0211flyers.8823@mail.example.org>"
    assert [p.name for p in folder.iterdir()] == [receipt.external_id], "no temporary file is left behind"


def test_send_twice_and_find_sent_reconcile_to_the_same_file(tmp_path: Path) -> None:
    sender = OutboxFolderSender(tmp_path)
    reply = demo_reply()
    assert sender.find_sent(reply) is None
    first = sender.send(reply)
    assert sender.find_sent(reply) == first
    assert sender.send(reply) == first
    assert OutboxFolderSender(tmp_path).send(reply) == first, "a new sender (after a restart) finds it too"
    assert eml_files(tmp_path) == [first.external_id]
    other = sender.send(demo_reply("run-2/send"))
    assert eml_files(tmp_path) == sorted([first.external_id, other.external_id])


def test_concurrent_sends_of_the_same_reply_leave_one_file(tmp_path: Path) -> None:
    reply = demo_reply()
    start = threading.Barrier(4)
    receipts: list[Any] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            receipts.append(OutboxFolderSender(tmp_path).send(reply))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.external_id for r in receipts}) == 1
    assert eml_files(tmp_path) == [receipts[0].external_id]
    assert (tmp_path / receipts[0].external_id).read_bytes() == reply.mime


def test_write_is_flushed_then_renamed_then_the_folder_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if _is_dir_fd(fd) else "fsync-file")
        real_fsync(fd)

    def do_replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", do_replace)
    OutboxFolderSender(tmp_path).send(demo_reply())
    expected = ["fsync-file", "replace", "fsync-dir"] if os.name == "posix" else ["fsync-file", "replace"]
    assert events == expected


def _is_dir_fd(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)


def test_failure_before_the_rename_publishes_nothing_and_a_retry_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = OutboxFolderSender(tmp_path)
    reply = demo_reply()

    def fail(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", fail)
        with pytest.raises(LocalMailboxIOError, match="No space left") as caught:
            sender.send(reply)
    assert isinstance(caught.value, TransientError)
    assert list(tmp_path.iterdir()) == [], "neither the reply nor a temporary file remains"
    assert sender.find_sent(reply) is None
    receipt = sender.send(reply)
    assert eml_files(tmp_path) == [receipt.external_id]


def test_failure_to_flush_the_folder_is_outcome_unknown_and_reconciles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.name != "posix":
        pytest.skip("the folder is flushed on POSIX only")
    sender = OutboxFolderSender(tmp_path)
    reply = demo_reply()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if _is_dir_fd(fd):
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", fsync)
        with pytest.raises(ConnectorOutcomeUnknownError) as caught:
            sender.send(reply)
    assert isinstance(caught.value, OutcomeUnknownError)
    found = sender.find_sent(reply)
    assert found is not None
    assert found.external_id == outbox_file_name(reply.message_id)


def test_permission_denied_is_a_named_permanent_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(LocalMailboxError, match="permission denied") as caught:
        OutboxFolderSender(tmp_path).send(demo_reply())
    assert isinstance(caught.value, PermanentError)
    assert caught.value.path == str(tmp_path)


def test_a_reply_whose_mime_lacks_its_message_id_is_refused(tmp_path: Path) -> None:
    reply = demo_reply()
    wrong = replace(reply, message_id="<someone-else@thornburywebb.co.uk>")
    with pytest.raises(ConnectorPermanentError, match="does not carry its Message-ID"):
        OutboxFolderSender(tmp_path).send(wrong)
    with pytest.raises(ConnectorPermanentError, match="valid Message-ID"):
        outbox_file_name("")
    assert list(tmp_path.iterdir()) == []


def test_a_file_edited_to_another_message_id_is_a_conflict(tmp_path: Path) -> None:
    sender = OutboxFolderSender(tmp_path)
    reply = demo_reply()
    receipt = sender.send(reply)
    (tmp_path / receipt.external_id).write_bytes(raw_reply("<other@example.org>").mime)
    with pytest.raises(ConflictError, match="another Message-ID"):
        sender.find_sent(reply)


def test_odd_message_ids_give_safe_distinct_names_inside_the_folder(tmp_path: Path) -> None:
    sender = OutboxFolderSender(tmp_path)
    ids = [
        "<../../etc/passwd@x.example>",
        "<.._.._etc_passwd@x.example>",
        "<a\\b:c*d?@x.example>",
        "<" + "long" * 55 + "@x.example>",
        "<...@x.example>",
    ]
    names = [sender.send(raw_reply(mid)).external_id for mid in ids]
    assert len(set(names)) == len(ids)
    for name in names:
        assert (tmp_path / name).parent == tmp_path
        assert name.endswith(".eml")
        assert not name.startswith(".")
        assert len(name) <= 120
    assert eml_files(tmp_path) == sorted(names)
    assert outbox_file_name("it-123@example.org") == outbox_file_name("<it-123@example.org>")


def test_stale_temporary_files_are_swept_but_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / ".outbox-crashed.part"
    fresh = tmp_path / ".outbox-writing.part"
    stale.write_bytes(b"half a reply")
    fresh.write_bytes(b"being written")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    OutboxFolderSender(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]
