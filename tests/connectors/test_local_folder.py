"""The local mail sources: a folder of .eml files, a Maildir, an mbox file, and the demo source."""

from __future__ import annotations

import hashlib
import mailbox
import os
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import LocalMailboxError, LocalMailboxIOError
from connectors.local_folder import EmlFolderSource, MaildirSource, MboxSource, demo_source, source_key
from engine.errors import PermanentError, TransientError
from engine.ingest import ingest_batch, ingest_source
from engine.ports import FetchedBatch, MailSource, MessageRef, RawMessage
from engine.storage import migrate
from engine.storage.db import Database, sqlite_url


def make_message(n: int, body: str = "", *, subject: str | None = None) -> bytes:
    """A small, valid email numbered ``n``."""
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <customer{n}@example.com>"
    msg["To"] = "hello@thornburywebb.co.uk"
    msg["Subject"] = subject or f"Order question {n}"
    msg["Message-ID"] = f"<msg-{n}@mail.example.org>"
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    msg.set_content(body or f"Hello, this is message number {n}.\n")
    return msg.as_bytes()


def drain(
    source: MailSource, cursor: dict[str, Any] | None = None
) -> tuple[list[RawMessage], dict[str, Any] | None]:
    """All messages a fetch hands over and the last cursor (``cursor`` if no batch came)."""
    messages: list[RawMessage] = []
    for batch in source.fetch(cursor):
        messages.extend(batch.messages)
        cursor = batch.cursor
    return messages, cursor


def ref_for(message: RawMessage) -> MessageRef:
    return MessageRef(
        account=message.account,
        folder=message.folder,
        uidvalidity=None,
        uid=None,
        source_key=message.source_key,
        message_id=None,
    )


# --- .eml folder ----------------------------------------------------------------------------


@pytest.fixture
def eml_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "emls"
    folder.mkdir()
    for n, name in enumerate(["b.eml", "a.eml", "c.eml"]):
        (folder / name).write_bytes(make_message(n))
    return folder


def test_eml_folder_reads_eml_files_in_name_order_with_identity_and_mtime(eml_dir: Path) -> None:
    os.utime(eml_dir / "a.eml", (1_762_000_000, 1_762_000_000))
    source = EmlFolderSource(eml_dir)
    assert isinstance(source, MailSource)
    assert source.account == "eml"
    assert source.destination == "local"
    messages, _ = drain(source)
    assert [m.source_key.split(":")[0] for m in messages if m.source_key] == ["a.eml", "b.eml", "c.eml"]
    first = messages[0]
    raw = (eml_dir / "a.eml").read_bytes()
    assert first.raw == raw
    assert first.source_key == f"a.eml:{hashlib.sha256(raw).hexdigest()[:16]}" == source_key("a.eml", raw)
    assert first.account == "eml"
    assert first.folder == "INBOX"
    assert first.identity() == f"eml/INBOX/key/{first.source_key}"
    assert first.received_at == datetime.fromtimestamp(1_762_000_000, UTC)


def test_eml_folder_handles_odd_names_and_ignores_what_is_not_an_eml_file(tmp_path: Path) -> None:
    folder = tmp_path / "odd names"
    folder.mkdir()
    odd = ["Re: quote (2).eml", "café ümlaut.eml", "UPPER.EML", "with  spaces .eml", "[brackets]#1.eml"]
    for n, name in enumerate(odd):
        (folder / name).write_bytes(make_message(n))
    (folder / "notes.txt").write_text("not mail")
    (folder / ".hidden.eml").write_bytes(make_message(90))
    (folder / "sub.eml").mkdir()
    (folder / "sub.eml" / "inner.eml").write_bytes(make_message(91))
    if os.name == "posix":
        (folder / os.fsdecode(b"latin1-\xe9.eml")).write_bytes(make_message(92))
    messages, _ = drain(EmlFolderSource(folder))
    names = [m.source_key.rsplit(":", 1)[0] for m in messages if m.source_key]
    expected = sorted(odd + (["latin1-\\xe9.eml"] if os.name == "posix" else []))
    assert names == expected
    for message in messages:  # every key must be storable text
        assert message.source_key is not None
        message.source_key.encode("utf-8")


def test_eml_folder_hands_over_garbage_files_unchanged(tmp_path: Path) -> None:
    (tmp_path / "blob.eml").write_bytes(b"\x89PNG\x00\xff garbage")
    (tmp_path / "empty.eml").write_bytes(b"")
    messages, _ = drain(EmlFolderSource(tmp_path))
    assert sorted(m.raw for m in messages) == [b"", b"\x89PNG\x00\xff garbage"]


def test_eml_cursor_second_fetch_yields_nothing_and_new_file_only_itself(eml_dir: Path) -> None:
    source = EmlFolderSource(eml_dir)
    first, cursor = drain(source)
    assert len(first) == 3
    assert list(source.fetch(cursor)) == []
    (eml_dir / "d.eml").write_bytes(make_message(4))
    new, cursor2 = drain(source, cursor)
    assert [m.source_key.split(":")[0] for m in new if m.source_key] == ["d.eml"]
    assert list(source.fetch(cursor2)) == []


def test_eml_cursor_falls_back_to_a_full_read_when_an_earlier_name_appears(eml_dir: Path) -> None:
    source = EmlFolderSource(eml_dir)
    first, cursor = drain(source)
    (eml_dir / "0-early.eml").write_bytes(make_message(5))
    again, _ = drain(source, cursor)
    keys = {m.source_key for m in again}
    assert any(k and k.startswith("0-early.eml:") for k in keys), "a file that sorts earlier is never lost"
    assert {m.source_key for m in first} <= keys  # re-read; the engine dedupes these


def test_eml_edited_file_is_a_new_message(eml_dir: Path) -> None:
    source = EmlFolderSource(eml_dir)
    first, cursor = drain(source)
    old_key = next(m.source_key for m in first if m.source_key and m.source_key.startswith("a.eml:"))
    (eml_dir / "a.eml").write_bytes(make_message(0, "Edited body.\n"))
    os.utime(eml_dir / "a.eml", ns=(1, 1))  # make sure the change is visible even on coarse clocks
    again, _ = drain(source, cursor)
    new_key = next(m.source_key for m in again if m.source_key and m.source_key.startswith("a.eml:"))
    assert new_key != old_key


def test_eml_batches_and_resuming_mid_way(tmp_path: Path) -> None:
    for n in range(7):
        (tmp_path / f"{n:02d}.eml").write_bytes(make_message(n))
    source = EmlFolderSource(tmp_path, batch_size=3)
    batches = list(source.fetch(None))
    assert [len(b.messages) for b in batches] == [3, 3, 1]
    resumed, _ = drain(source, batches[0].cursor)
    assert [m.source_key.split(":")[0] for m in resumed if m.source_key] == [
        f"{n:02d}.eml" for n in range(3, 7)
    ]


def test_eml_batch_byte_limit_closes_batches_early(tmp_path: Path) -> None:
    for n in range(4):
        (tmp_path / f"{n}.eml").write_bytes(make_message(n, "x" * 5000))
    batches = list(EmlFolderSource(tmp_path, batch_bytes=6000).fetch(None))
    assert [len(b.messages) for b in batches] == [2, 2]


def test_eml_cursor_from_another_kind_or_garbage_means_a_full_read(eml_dir: Path) -> None:
    source = EmlFolderSource(eml_dir)
    for cursor in (
        {"kind": "mbox", "offset": 10},
        {"kind": "eml", "count": "x"},
        {"kind": "eml", "count": 99},
        {"kind": "eml", "count": 2, "after": "b.eml", "digest": "0" * 32},
    ):
        messages, _ = drain(source, cursor)
        assert len(messages) == 3, cursor


def test_eml_unreadable_file_raises_an_error_naming_it(
    eml_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "b.eml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(LocalMailboxError, match=r"b\.eml") as caught:
        drain(EmlFolderSource(eml_dir))
    assert isinstance(caught.value, PermanentError)
    assert caught.value.path == str(eml_dir / "b.eml")


def test_eml_io_error_is_transient_and_names_the_file(eml_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: Path) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "read_bytes", fail)
    with pytest.raises(LocalMailboxIOError, match=r"a\.eml") as caught:
        drain(EmlFolderSource(eml_dir))
    assert isinstance(caught.value, TransientError)


def test_eml_file_vanishing_between_listing_and_reading_is_skipped(
    eml_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path.read_bytes

    def vanish(self: Path) -> bytes:
        if self.name == "b.eml":
            self.unlink()
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", vanish)
    messages, _ = drain(EmlFolderSource(eml_dir))
    assert [m.source_key.split(":")[0] for m in messages if m.source_key] == ["a.eml", "c.eml"]


def test_eml_missing_folder_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(LocalMailboxError, match="does not exist"):
        drain(EmlFolderSource(tmp_path / "nope"))


def test_eml_marking_never_touches_the_files(eml_dir: Path) -> None:
    source = EmlFolderSource(eml_dir)
    messages, _ = drain(source)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in eml_dir.iterdir()}
    for message in messages:
        source.mark_processed(ref_for(message))
        source.mark_answered(ref_for(message))
    source.close()
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in eml_dir.iterdir()} == before


def test_batch_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        EmlFolderSource(tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="positive"):
        MboxSource(tmp_path / "x", batch_bytes=0)


# --- Maildir --------------------------------------------------------------------------------


@pytest.fixture
def maildir(tmp_path: Path) -> tuple[Path, list[str]]:
    """A Maildir made by the standard library: two messages in new/, one in cur/ flagged F."""
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)
    keys = [box.add(make_message(n)) for n in range(2)]
    flagged = mailbox.MaildirMessage(make_message(2))
    flagged.set_subdir("cur")
    flagged.set_flags("F")
    keys.append(box.add(flagged))
    box.close()
    return path, keys


def stdlib_flags(path: Path, key: str) -> str:
    box = mailbox.Maildir(path, create=False)
    message = box.get_message(key)
    box.close()
    return message.get_flags()


def test_maildir_reads_new_and_cur_keyed_by_unique_name(maildir: tuple[Path, list[str]]) -> None:
    path, keys = maildir
    source = MaildirSource(path)
    assert isinstance(source, MailSource)
    assert source.destination == "local"
    messages, _ = drain(source)
    assert sorted(m.source_key.rsplit(":", 1)[0] for m in messages if m.source_key) == sorted(keys)
    assert {m.raw for m in messages} == {make_message(n) for n in range(3)}
    (path / "tmp" / "in-delivery").write_bytes(b"half a message")  # tmp/ is never read
    assert len(drain(source)[0]) == 3


def test_maildir_flags_are_standard_idempotent_and_do_not_change_identity(
    maildir: tuple[Path, list[str]],
) -> None:
    path, keys = maildir
    source = MaildirSource(path)
    messages, cursor = drain(source)
    by_key = {m.source_key.rsplit(":", 1)[0]: m for m in messages if m.source_key}
    new_one, flagged = by_key[keys[0]], by_key[keys[2]]

    source.mark_processed(ref_for(new_one))
    assert stdlib_flags(path, keys[0]) == "S"
    assert not list((path / "new").glob(f"{keys[0]}*")), "a processed message moves from new/ to cur/"
    source.mark_processed(ref_for(new_one))
    assert stdlib_flags(path, keys[0]) == "S"
    source.mark_answered(ref_for(new_one))
    source.mark_answered(ref_for(new_one))
    assert stdlib_flags(path, keys[0]) == "RS"
    assert [p.name for p in (path / "cur").glob(f"{keys[0]}*")] == [f"{keys[0]}:2,RS"]

    source.mark_answered(ref_for(flagged))
    assert stdlib_flags(path, keys[2]) == "FR", "existing flags are kept"

    assert list(source.fetch(cursor)) == [], "flag changes are not new mail"
    again, _ = drain(source)
    assert {m.source_key for m in again} == {m.source_key for m in messages}
    assert {m.raw for m in again} == {m.raw for m in messages}, "flagging never rewrites the bytes"


def test_maildir_marking_a_deleted_message_does_nothing(maildir: tuple[Path, list[str]]) -> None:
    path, _keys = maildir
    source = MaildirSource(path)
    messages, _ = drain(source)
    box = mailbox.Maildir(path, create=False)
    box.remove(messages[0].source_key.rsplit(":", 1)[0] if messages[0].source_key else "")
    box.close()
    before = sorted(str(p.relative_to(path)) for p in path.rglob("*"))
    source.mark_processed(ref_for(messages[0]))
    source.mark_answered(ref_for(messages[0]))
    assert sorted(str(p.relative_to(path)) for p in path.rglob("*")) == before
    assert len(drain(source)[0]) == 2


def test_maildir_cursor_new_delivery_only_itself(maildir: tuple[Path, list[str]]) -> None:
    path, _keys = maildir
    source = MaildirSource(path)
    _messages, cursor = drain(source)
    assert list(source.fetch(cursor)) == []
    # A delivery one second after the others: its name sorts after theirs. (Names from
    # ``mailbox.Maildir.add`` in the same second compare by a variable-width microsecond field,
    # so one may sort earlier, and the cursor then rightly reads the whole folder again.)
    latest = max(int(p.name.split(".", 1)[0]) for p in path.glob("*/*") if p.name[0].isdigit())
    new_key = f"{latest + 1}.M1P1Q1.test"
    (path / "new" / new_key).write_bytes(make_message(10))
    new, _ = drain(source, cursor)
    assert [m.source_key.rsplit(":", 1)[0] for m in new if m.source_key] == [new_key]


def test_maildir_message_moved_to_cur_while_reading_is_still_read(
    maildir: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _keys = maildir
    real = Path.read_bytes
    moved: list[str] = []

    def move_first(self: Path) -> bytes:
        if self.parent.name == "new" and not moved:
            moved.append(self.name)
            os.rename(self, path / "cur" / f"{self.name}:2,S")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", move_first)
    messages, _ = drain(MaildirSource(path))
    assert moved
    assert len(messages) == 3


def test_folder_that_is_not_a_maildir_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(LocalMailboxError, match="not a Maildir"):
        drain(MaildirSource(tmp_path))


def test_maildir_flagging_without_permission_is_a_named_error(
    maildir: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _keys = maildir
    source = MaildirSource(path)
    messages, _ = drain(source)

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)
    unflagged = next(
        m for m in messages if m.source_key and list((path / "new").glob(m.source_key.split(":")[0]))
    )
    with pytest.raises(LocalMailboxError, match="permission denied"):
        source.mark_processed(ref_for(unflagged))


# --- mbox -----------------------------------------------------------------------------------

FROM_IN_BODY = "Hello,\n\nFrom our side the order is fine.\nFrom the studio,\nJo\n"


@pytest.fixture
def mbox_file(tmp_path: Path) -> Path:
    """An mbox written by the standard library, with body lines starting with 'From '."""
    path = tmp_path / "export.mbox"
    box = mailbox.mbox(path, create=True)
    for n in range(3):
        message = mailbox.mboxMessage(make_message(n, FROM_IN_BODY if n == 1 else ""))
        message.set_from(f"customer{n}@example.com", (2026, 11, 5 + n, 9, 12, 0, 0, 0, 0))
        box.add(message)
    box.flush()
    box.close()
    return path


def test_mbox_messages_match_the_standard_library_split(mbox_file: Path) -> None:
    source = MboxSource(mbox_file)
    assert isinstance(source, MailSource)
    assert source.destination == "local"
    messages, _ = drain(source)
    stdlib = mailbox.mbox(mbox_file, create=False)
    expected = [stdlib.get_bytes(key) for key in stdlib.iterkeys()]
    stdlib.close()
    assert [m.raw for m in messages] == expected
    assert b"\n>From our side the order is fine.\n>From the studio," in messages[1].raw
    assert [m.source_key for m in messages] == [source_key(str(i), m.raw) for i, m in enumerate(messages)]
    assert [m.received_at for m in messages] == [
        datetime(2026, 11, 5 + n, 9, 12, tzinfo=UTC) for n in range(3)
    ]


def test_mbox_from_line_inside_a_paragraph_does_not_split(tmp_path: Path) -> None:
    path = tmp_path / "hand.mbox"
    path.write_bytes(
        b"From a@example.com Thu Nov  5 09:12:00 2026\n"
        + make_message(1, "Line one\nFrom here on, unescaped.\n")
        + b"\nFrom b@example.com Fri Nov  6 10:00:00 2026\n"
        + make_message(2)
    )
    messages, _ = drain(MboxSource(path))
    assert len(messages) == 2
    assert b"\nFrom here on, unescaped.\n" in messages[0].raw


def test_mbox_cursor_append_yields_only_the_new_message(mbox_file: Path) -> None:
    source = MboxSource(mbox_file)
    _first, cursor = drain(source)
    assert list(source.fetch(cursor)) == []
    box = mailbox.mbox(mbox_file, create=False)
    box.lock()
    box.add(mailbox.mboxMessage(make_message(7)))
    box.flush()
    box.unlock()
    box.close()
    new, cursor2 = drain(source, cursor)
    assert [m.raw for m in new] == [make_message(7)]
    assert new[0].source_key == source_key("3", make_message(7))
    assert list(source.fetch(cursor2)) == []


def test_mbox_rewritten_file_is_read_from_the_top(mbox_file: Path) -> None:
    source = MboxSource(mbox_file)
    _first, cursor = drain(source)
    box = mailbox.mbox(mbox_file, create=False)
    box.lock()
    box.remove(next(iter(box.iterkeys())))
    box.flush()
    box.unlock()
    box.close()
    again, _ = drain(source, cursor)
    assert len(again) == 2
    assert [m.source_key.split(":")[0] for m in again if m.source_key] == ["0", "1"]


def test_mbox_batches_resume_by_offset(tmp_path: Path) -> None:
    path = tmp_path / "many.mbox"
    box = mailbox.mbox(path, create=True)
    for n in range(5):
        box.add(mailbox.mboxMessage(make_message(n)))
    box.flush()
    box.close()
    source = MboxSource(path, batch_size=2)
    batches: list[FetchedBatch] = list(source.fetch(None))
    assert [len(b.messages) for b in batches] == [2, 2, 1]
    rest, _ = drain(source, batches[0].cursor)
    assert [m.raw for m in rest] == [make_message(n) for n in range(2, 5)]


def test_mbox_text_without_from_lines_is_still_handed_over(tmp_path: Path) -> None:
    path = tmp_path / "single.mbox"
    path.write_bytes(make_message(1))
    messages, _ = drain(MboxSource(path))
    assert [m.raw for m in messages] == [make_message(1)]
    assert messages[0].received_at is not None


def test_mbox_is_never_modified_and_missing_file_is_a_named_error(mbox_file: Path, tmp_path: Path) -> None:
    source = MboxSource(mbox_file)
    before = mbox_file.read_bytes()
    messages, _ = drain(source)
    for message in messages:
        source.mark_processed(ref_for(message))
        source.mark_answered(ref_for(message))
    source.close()
    assert mbox_file.read_bytes() == before
    with pytest.raises(LocalMailboxError, match="does not exist"):
        drain(MboxSource(tmp_path / "missing.mbox"))


def test_mbox_unreadable_file_is_a_named_permanent_error(
    mbox_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(LocalMailboxError, match=r"export\.mbox"):
        drain(MboxSource(mbox_file))


# --- demo -----------------------------------------------------------------------------------


def test_demo_source_is_the_bundled_mailbox(tmp_path: Path) -> None:
    source = demo_source()
    assert (source.account, source.folder, source.destination) == ("demo", "INBOX", "local")
    messages, cursor = drain(source)
    files = sorted(p.name for p in source.path.glob("*.eml"))
    assert [m.source_key.rsplit(":", 1)[0] for m in messages if m.source_key] == files
    assert list(source.fetch(cursor)) == []
    # the same files copied elsewhere give the same keys: identity depends on name and bytes only
    copy = tmp_path / "copy"
    shutil.copytree(source.path, copy)
    copied, _ = drain(EmlFolderSource(copy, account="demo"))
    assert [m.source_key for m in copied] == [m.source_key for m in messages]


def test_demo_source_through_the_engines_ingest_is_exactly_once(tmp_path: Path) -> None:
    """The cursor survives its round trip through the database, and a lost cursor duplicates nothing."""
    database = Database(sqlite_url(tmp_path / "ingest.db"))
    try:
        migrate.upgrade(database)
        folder = tmp_path / "mailbox"
        shutil.copytree(demo_source().path, folder)
        source = EmlFolderSource(folder, account="demo")
        first = ingest_source(database, source)
        assert first.new_runs == first.fetched == len(list(folder.glob("*.eml")))
        assert ingest_source(database, source).fetched == 0
        (folder / "99-late-arrival.eml").write_bytes(make_message(99))
        late = ingest_source(database, source)
        assert (late.fetched, late.new_runs) == (1, 1)
        replayed = [ingest_batch(database, batch, account="demo") for batch in source.fetch(None)]
        assert sum(r.fetched for r in replayed) == first.fetched + 1
        assert sum(r.new_runs for r in replayed) == 0
    finally:
        database.dispose()
