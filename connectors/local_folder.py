"""Mail sources over local files: a folder of ``.eml`` files, a Maildir, an mbox file, the demo mailbox.

Nothing here touches the network; every source's ``destination`` is ``"local"``.

**Identity.** A message's ``source_key`` is ``<name>:<first 16 hex digits of the SHA-256 of its
bytes>``, where the name is the file name (``.eml`` folders), the Maildir unique name (the part
before ``:2,``, which stays the same when flags change) or the message's 0-based position (mbox).
Reading a file again gives the same key; editing it gives a new message.

**Cursor.** Listing a folder is cheap, reading and hashing every file is not. Folder sources list
the entries sorted by name and remember how far that list was handed over:
``{"kind", "after": last name, "count": n, "digest": d}``, where ``d`` hashes the name, size and
modification time of the first ``n`` entries. The next fetch reads only the entries after
``after`` when the first ``n`` entries still hash to ``d``. If anything up to the cursor changed
(a new file that sorts earlier, an edited or a removed file) the whole folder is read again. The
mbox source remembers the byte offset after the last message and a hash of the bytes just before
it, and starts again from the top when the file was rewritten rather than appended to. Either
way the engine drops what it already has (by identity and Message-ID), so the cursor saves work
but a stale or lost cursor never loses or duplicates mail.

**Flags.** Only Maildir messages are flagged: processed = ``S`` (seen), answered = ``R``
(replied), by renaming the file as the Maildir convention says; the bytes are never rewritten.
``.eml`` folders, the demo mailbox and mbox files are never modified (marking is a no-op), so a
user's own mail export is safe to point at.

A file that can be read is always handed over, whatever it contains: deciding whether it is an
email is the engine's job (it quarantines what is not). A file the permissions forbid reading
raises :class:`~connectors.errors.LocalMailboxError` naming it; a file that vanishes between
listing and reading is skipped.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from connectors.errors import LocalMailboxError, LocalMailboxIOError
from engine.ports import FetchedBatch, MessageRef, RawMessage

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "DEFAULT_BATCH_SIZE",
    "EmlFolderSource",
    "MaildirSource",
    "MboxSource",
    "demo_source",
    "source_key",
]

LOCAL = "local"
#: Messages per batch handed to the engine (one database transaction each).
DEFAULT_BATCH_SIZE = 200
#: A batch is also closed once it holds this many bytes (a batch always holds at least one message).
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024
_KEY_HASH_DIGITS = 16
_DIGEST_DIGITS = 32
_MAILDIR_NAME = re.compile(r"(?P<key>[^:!]+)(?:(?P<sep>[:!])2,(?P<flags>[A-Za-z]*))?(?:[:!].*)?")
_MAILDIR_SEP = "!" if os.name == "nt" else ":"
_MBOX_TAIL = 4096
_MBOX_DATE = re.compile(rb"([A-Z][a-z]{2}) +(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}) (\d{4})\s*$")
_MONTHS = {m.encode(): i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def source_key(name: str, raw: bytes) -> str:
    """The identity of ``raw`` read under ``name``: ``name:`` plus 16 hex digits of its SHA-256."""
    return f"{name}:{hashlib.sha256(raw).hexdigest()[:_KEY_HASH_DIGITS]}"


def _safe_name(name: str) -> str:
    """A file name as storable text (undecodable bytes become backslash escapes)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _mtime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _read_error(path: Path, exc: OSError) -> Exception:
    """The connector error for a file that could not be read."""
    if isinstance(exc, PermissionError):
        return LocalMailboxError(f"cannot read {path}: permission denied", path=str(path))
    return LocalMailboxIOError(f"cannot read {path}: {exc.strerror or exc}", path=str(path))


def _read_bytes(path: Path) -> bytes | None:
    """The bytes of ``path``, or ``None`` if it no longer exists."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _read_error(path, exc) from exc


@dataclass(frozen=True)
class _Entry:
    """One message file found by a listing."""

    name: str
    path: Path
    size: int
    mtime: float
    mtime_ns: int

    def feed(self, digest: Any) -> None:
        digest.update(f"{self.name}\0{self.size}\0{self.mtime_ns}\n".encode("utf-8", "surrogateescape"))


class _LocalSource:
    """What every local source shares: its path, names, batch limits, and ``destination == "local"``."""

    def __init__(self, path: Path, *, account: str, folder: str, batch_size: int, batch_bytes: int) -> None:
        if batch_size < 1 or batch_bytes < 1:
            raise ValueError("batch_size and batch_bytes must be positive")
        self.path = Path(path)
        self._account = account
        self.folder = folder
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes

    @property
    def account(self) -> str:
        """The account name used in message identities and audit events."""
        return self._account

    @property
    def destination(self) -> str:
        """Always ``"local"``: nothing leaves the machine."""
        return LOCAL

    def close(self) -> None:
        """Nothing to release: files are opened and closed per fetch."""

    def _full(self, batch: list[RawMessage], size: int) -> bool:
        return len(batch) >= self.batch_size or size >= self.batch_bytes


class _ListingSource(_LocalSource):
    """Shared fetch logic of the sources whose messages are files in a folder."""

    kind = "folder"

    def _list(self) -> list[_Entry]:
        raise NotImplementedError

    def _reread(self, entry: _Entry) -> _Entry | None:
        """Where a vanished entry went (a Maildir message moved from new/ to cur/), if anywhere."""
        return None

    def fetch(self, cursor: Mapping[str, Any] | None) -> Iterator[FetchedBatch]:
        """Yield batches of the messages not yet handed over, in name order (see the module doc)."""
        entries = self._list()
        start, digest = self._resume(entries, cursor)
        batch: list[RawMessage] = []
        size = 0
        handed = dict(cursor or {})
        position = self._position(entries, start, digest)
        for index in range(start, len(entries)):
            entry = entries[index]
            entry.feed(digest)
            message = self._read(entry)
            if message is not None:
                batch.append(message)
                size += len(message.raw)
            position = self._position(entries, index + 1, digest)
            if self._full(batch, size):
                yield FetchedBatch(messages=batch, cursor=position)
                batch, size, handed = [], 0, position
        if batch or position != handed:
            yield FetchedBatch(messages=batch, cursor=position)

    def _position(self, entries: list[_Entry], count: int, digest: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "after": entries[count - 1].name if count else None,
            "count": count,
            "digest": digest.hexdigest()[:_DIGEST_DIGITS],
        }

    def _resume(self, entries: list[_Entry], cursor: Mapping[str, Any] | None) -> tuple[int, Any]:
        """How many leading entries the cursor proves were handed over (0 = read all), and their digest."""
        if not cursor or cursor.get("kind") != self.kind:
            return 0, hashlib.sha256()
        count = cursor.get("count")
        if not isinstance(count, int) or not 0 < count <= len(entries):
            return 0, hashlib.sha256()
        if entries[count - 1].name != cursor.get("after"):
            return 0, hashlib.sha256()
        digest = hashlib.sha256()
        for entry in entries[:count]:
            entry.feed(digest)
        if digest.hexdigest()[:_DIGEST_DIGITS] != cursor.get("digest"):
            return 0, hashlib.sha256()
        return count, digest

    def _read(self, entry: _Entry) -> RawMessage | None:
        """The message in ``entry``'s file, or ``None`` if the file is gone."""
        raw = _read_bytes(entry.path)
        if raw is None:
            moved = self._reread(entry)
            if moved is None:
                return None
            entry, raw = moved, _read_bytes(moved.path)
            if raw is None:
                return None
        return RawMessage(account=self._account, folder=self.folder, raw=raw,
                          source_key=source_key(entry.name, raw), received_at=_mtime(entry.mtime))

    def _scan_dir(self, folder: Path, accept: Callable[[str], bool]) -> list[_Entry]:
        """Regular files in ``folder`` whose names ``accept`` allows (hidden files never)."""
        found: list[_Entry] = []
        try:
            with os.scandir(folder) as listing:
                for item in listing:
                    if item.name.startswith(".") or not accept(item.name):
                        continue
                    try:
                        if not item.is_file():
                            continue
                        stat = item.stat()
                    except FileNotFoundError:
                        continue
                    found.append(_Entry(_safe_name(item.name), Path(item.path), stat.st_size,
                                        stat.st_mtime, stat.st_mtime_ns))
        except FileNotFoundError as exc:
            raise LocalMailboxError(f"{folder} does not exist", path=str(folder)) from exc
        except OSError as exc:
            raise _read_error(folder, exc) from exc
        return found


class EmlFolderSource(_ListingSource):
    """A folder of ``.eml`` files (one raw message per file), read in file-name order.

    Only files directly in the folder whose names end in ``.eml`` (any case) are read; hidden
    files (``.name``) and sub-folders are ignored. The folder is never modified.
    """

    kind = "eml"

    def __init__(self, path: Path, account: str = "eml", *, folder: str = "INBOX",
                 batch_size: int = DEFAULT_BATCH_SIZE, batch_bytes: int = DEFAULT_BATCH_BYTES) -> None:
        super().__init__(path, account=account, folder=folder, batch_size=batch_size, batch_bytes=batch_bytes)

    def _list(self) -> list[_Entry]:
        entries = self._scan_dir(self.path, lambda name: name.lower().endswith(".eml"))
        return sorted(entries, key=lambda entry: entry.name)

    def mark_processed(self, ref: MessageRef) -> None:
        """No-op: a folder of .eml files has no flags, and the user's files are left untouched."""

    def mark_answered(self, ref: MessageRef) -> None:
        """No-op: a folder of .eml files has no flags, and the user's files are left untouched."""


class MaildirSource(_ListingSource):
    """A Maildir (the layout of ``mailbox.Maildir``, Dovecot, mbsync): messages in ``new/`` and ``cur/``.

    Messages are read in order of their unique names (which start with the delivery time).
    ``mark_processed`` adds the ``S`` (seen) flag and ``mark_answered`` the ``R`` (replied) flag by
    moving the file to ``cur/<unique>:2,<flags>``; both are idempotent, and marking a message
    that has since been deleted does nothing.
    """

    kind = "maildir"
    PROCESSED_FLAG = "S"
    ANSWERED_FLAG = "R"

    def __init__(self, path: Path, account: str = "maildir", *, folder: str = "INBOX",
                 batch_size: int = DEFAULT_BATCH_SIZE, batch_bytes: int = DEFAULT_BATCH_BYTES) -> None:
        super().__init__(path, account=account, folder=folder, batch_size=batch_size, batch_bytes=batch_bytes)

    def _files(self, sub: str) -> list[_Entry]:
        return [
            _Entry(_maildir_key(entry.name), entry.path, entry.size, entry.mtime, entry.mtime_ns)
            for entry in self._scan_dir(self.path / sub, lambda name: True)
        ]

    def _list(self) -> list[_Entry]:
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise LocalMailboxError(f"{self.path} is not a Maildir: it has no cur/ or new/ folder",
                                    path=str(self.path))
        by_key: dict[str, _Entry] = {}
        for sub in ("new", "cur"):  # a message seen in both (moved meanwhile) counts once, as in cur/
            if (self.path / sub).is_dir():
                by_key.update((entry.name, entry) for entry in self._files(sub))
        return sorted(by_key.values(), key=lambda entry: entry.name)

    def _reread(self, entry: _Entry) -> _Entry | None:
        path = self._locate(entry.name)
        if path is None:
            return None
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return _Entry(entry.name, path, stat.st_size, stat.st_mtime, stat.st_mtime_ns)

    def _locate(self, key: str) -> Path | None:
        """The current file of the message with unique name ``key`` (cur/ first), or ``None``."""
        for sub in ("cur", "new"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            for entry in self._scan_dir(folder, lambda name: _maildir_key(name) == key):
                return entry.path
        return None

    def mark_processed(self, ref: MessageRef) -> None:
        """Add the ``S`` (seen) flag to the message; idempotent."""
        self._add_flag(ref, self.PROCESSED_FLAG)

    def mark_answered(self, ref: MessageRef) -> None:
        """Add the ``R`` (replied) flag to the message; idempotent."""
        self._add_flag(ref, self.ANSWERED_FLAG)

    def _add_flag(self, ref: MessageRef, flag: str) -> None:
        if not ref.source_key:
            return
        key = ref.source_key.rsplit(":", 1)[0]
        for _attempt in range(3):  # another mail client may rename the file under us
            current = self._locate(key)
            if current is None:
                return
            match = _MAILDIR_NAME.fullmatch(current.name)
            flags = set(match.group("flags") or "") if match else set()
            sep = match.group("sep") if match and match.group("sep") else _MAILDIR_SEP
            if flag in flags and current.parent.name == "cur":
                return
            target = self.path / "cur" / f"{key}{sep}2,{''.join(sorted(flags | {flag}))}"
            try:
                os.rename(current, target)
                return
            except FileNotFoundError:
                continue
            except PermissionError as exc:
                raise LocalMailboxError(f"cannot flag {current}: permission denied",
                                        path=str(current)) from exc
            except OSError as exc:
                raise LocalMailboxIOError(f"cannot flag {current}: {exc.strerror or exc}",
                                          path=str(current)) from exc


def _maildir_key(name: str) -> str:
    """The unique part of a Maildir file name (without the ``:2,FLAGS`` info)."""
    match = _MAILDIR_NAME.fullmatch(name)
    return match.group("key") if match else name


class MboxSource(_LocalSource):
    """An mbox file (messages separated by ``From `` lines), read in file order; never modified.

    A ``From `` line starts a message when it is the first line or follows an empty line, so an
    unescaped "From " inside a paragraph does not split a message. Body lines stored escaped
    (``>From ``) are handed over as stored: mboxo and mboxrd cannot be told apart, and the
    engine treats the ``>`` as text. ``received_at`` is the date on the ``From `` line (UTC),
    else the file's modification time.
    """

    kind = "mbox"

    def __init__(self, path: Path, account: str = "mbox", *, folder: str = "INBOX",
                 batch_size: int = DEFAULT_BATCH_SIZE, batch_bytes: int = DEFAULT_BATCH_BYTES) -> None:
        super().__init__(path, account=account, folder=folder, batch_size=batch_size, batch_bytes=batch_bytes)

    def mark_processed(self, ref: MessageRef) -> None:
        """No-op: the user's mbox file is never modified."""

    def mark_answered(self, ref: MessageRef) -> None:
        """No-op: the user's mbox file is never modified."""

    def fetch(self, cursor: Mapping[str, Any] | None) -> Iterator[FetchedBatch]:
        """Yield batches of the messages after the cursor's offset (from the top if the file changed)."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError as exc:
            raise LocalMailboxError(f"{self.path} does not exist", path=str(self.path)) from exc
        except OSError as exc:
            raise _read_error(self.path, exc) from exc
        with handle:
            try:
                yield from self._fetch_open(handle, cursor)
            except OSError as exc:
                raise _read_error(self.path, exc) from exc

    def _fetch_open(self, handle: BinaryIO, cursor: Mapping[str, Any] | None) -> Iterator[FetchedBatch]:
        stat = os.fstat(handle.fileno())
        offset, index, tail = self._resume(handle, stat.st_size, cursor)
        fallback_time = _mtime(stat.st_mtime)
        batch: list[RawMessage] = []
        size = 0
        handed = dict(cursor or {})
        position = self._position(offset, index, tail)
        for end, end_tail, from_line, raw in _split_mbox(handle, offset, tail):
            batch.append(RawMessage(account=self._account, folder=self.folder, raw=raw,
                                    source_key=source_key(str(index), raw),
                                    received_at=_from_line_time(from_line) or fallback_time))
            size += len(raw)
            index += 1
            position = self._position(end, index, end_tail)
            if self._full(batch, size):
                yield FetchedBatch(messages=batch, cursor=position)
                batch, size, handed = [], 0, position
        if batch or position != handed:
            yield FetchedBatch(messages=batch, cursor=position)

    def _position(self, offset: int, index: int, tail: bytes) -> dict[str, Any]:
        return {"kind": self.kind, "offset": offset, "index": index, "tail": _tail_digest(tail)}

    def _resume(
        self, handle: BinaryIO, file_size: int, cursor: Mapping[str, Any] | None
    ) -> tuple[int, int, bytes]:
        """Where to start: the cursor's (offset, index) if the bytes before it are unchanged, else the top."""
        if not cursor or cursor.get("kind") != self.kind:
            return 0, 0, b""
        offset, index = cursor.get("offset"), cursor.get("index")
        if not isinstance(offset, int) or not isinstance(index, int) or not 0 <= offset <= file_size:
            return 0, 0, b""
        start = max(0, offset - _MBOX_TAIL)
        handle.seek(start)
        tail = handle.read(offset - start)
        if _tail_digest(tail) != cursor.get("tail"):
            return 0, 0, b""
        return offset, index, tail


def _tail_digest(tail: bytes) -> str:
    """A hash of the (up to :data:`_MBOX_TAIL`) bytes before a position, to notice a rewritten file."""
    return hashlib.sha256(tail[-_MBOX_TAIL:]).hexdigest()[:_DIGEST_DIGITS]


def _split_mbox(handle: BinaryIO, offset: int, tail: bytes) -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """Yield ``(end offset, bytes before the end, From line, message bytes)`` per message from ``offset``.

    ``tail`` holds the bytes just before ``offset``. Text before the first ``From `` line (a file
    that is not really an mbox) is yielded as one message with an empty From line, so that
    nothing readable is silently dropped.
    """
    handle.seek(offset)
    position = offset
    recent = bytearray(tail[-_MBOX_TAIL:])
    from_line = b""
    lines: list[bytes] = []
    previous_blank = True
    started = False
    for line in handle:
        if line.startswith(b"From ") and previous_blank:
            if started or any(part.strip() for part in lines):
                yield position, bytes(recent[-_MBOX_TAIL:]), from_line, _strip_separator(lines)
            from_line, lines, started = line, [], True
        else:
            lines.append(line)
        position += len(line)
        recent += line
        if len(recent) > 2 * _MBOX_TAIL:
            del recent[:-_MBOX_TAIL]
        previous_blank = line in (b"\n", b"\r\n")
    if started or any(part.strip() for part in lines):
        yield position, bytes(recent[-_MBOX_TAIL:]), from_line, _strip_separator(lines)


def _strip_separator(lines: list[bytes]) -> bytes:
    """A message's bytes without the one empty line that separates it from the next ``From `` line."""
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def _from_line_time(line: bytes) -> datetime | None:
    """The UTC time on an mbox ``From `` line (``... Thu Nov  5 09:12:00 2026``), if readable."""
    match = _MBOX_DATE.search(line.rstrip(b"\r\n"))
    if not match or match.group(1) not in _MONTHS:
        return None
    month = _MONTHS[match.group(1)]
    day, hour, minute, second, year = (int(group) for group in match.group(2, 3, 4, 5, 6))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def demo_source() -> EmlFolderSource:
    """The bundled demo mailbox (see :mod:`connectors.demo`) as account ``"demo"``, folder ``"INBOX"``."""
    from connectors.demo import demo_mailbox_dir

    return EmlFolderSource(demo_mailbox_dir(), account="demo", folder="INBOX")
