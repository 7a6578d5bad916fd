"""The local outbox: a :class:`~engine.ports.MailSender` that "sends" a reply by writing it to a folder.

Used by the demo profile and whenever no SMTP or Graph account is configured: staff can open the
``.eml`` files the engine would have sent.

**File names.** A reply is stored as ``<readable Message-ID>--<hash>.eml``, where the readable part
is the Message-ID without its angle brackets and with anything but letters, digits and ``.@+_-``
replaced, cut to 80 characters, and the hash is the first 16 hex digits of the SHA-256 of the
Message-ID. The name depends on the Message-ID alone (no timestamp), so :meth:`find_sent` is one
``stat`` rather than a folder scan, and two attempts to send the same reply, even racing ones,
can only ever produce one file. The file's modification time and its ``Date`` header say when it
was written.

**Atomic writes.** The bytes go to a hidden temporary file in the same folder, are flushed to
disk, and the file is renamed into place with :func:`os.replace`; then the folder itself is
flushed (on POSIX), so after a power cut a reply file is either complete or absent.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from connectors.errors import (
    ConflictError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    LocalMailboxError,
    LocalMailboxIOError,
)
from engine.mail.headerblock import normalise_message_id, peek_message_id
from engine.ports import EffectReceipt, OutgoingReply

__all__ = ["OutboxFolderSender", "outbox_file_name"]

LOCAL = "local"
_UNSAFE = re.compile(r"[^A-Za-z0-9.@+_-]+")
_READABLE_LENGTH = 80
_HASH_DIGITS = 16
_TEMP_PREFIX = ".outbox-"
_TEMP_SUFFIX = ".part"
#: Temporary files older than this are leftovers of a crash and are removed when a sender starts.
STALE_TEMP_SECONDS = 3600.0


def outbox_file_name(message_id: str) -> str:
    """The file name under which the reply with ``message_id`` is stored."""
    normalised = normalise_message_id(message_id)
    if normalised is None:
        raise ConnectorPermanentError(f"cannot store a reply without a valid Message-ID (got {message_id!r})")
    readable = _UNSAFE.sub("_", normalised[1:-1])[:_READABLE_LENGTH].strip("._") or "reply"
    digest = hashlib.sha256(normalised.encode("ascii")).hexdigest()[:_HASH_DIGITS]
    return f"{readable}--{digest}.eml"


class OutboxFolderSender:
    """Writes each reply as one ``.eml`` file into ``folder`` (created when missing); idempotent.

    Sending a reply whose file already exists returns the existing file's receipt instead of
    writing a second copy. The receipt's ``external_id`` is the file name.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._remove_stale_temp_files()

    @property
    def destination(self) -> str:
        """Always ``"local"``: nothing leaves the machine."""
        return LOCAL

    def send(self, reply: OutgoingReply) -> EffectReceipt:
        """Store ``reply.mime`` atomically, unless a file for this Message-ID already exists."""
        _check_mime_carries_id(reply)
        existing = self.find_sent(reply)
        if existing is not None:
            return existing
        target = self.folder / outbox_file_name(reply.message_id)
        self._ensure_folder()
        temp = self._write_temp(reply.mime)
        try:
            os.replace(temp, target)
        except OSError as exc:
            _discard(temp)
            raise _write_error(self.folder, exc) from exc
        try:
            _sync_directory(self.folder)
        except OSError as exc:
            raise ConnectorOutcomeUnknownError(
                f"the reply was written to {target} but the folder could not be flushed to disk: {exc}"
            ) from exc
        return self._receipt(target, len(reply.mime))

    def find_sent(self, reply: OutgoingReply) -> EffectReceipt | None:
        """The receipt of the stored reply with ``reply.message_id``, or ``None`` if there is none.

        Raises :class:`~connectors.errors.ConflictError` if a file with that name holds a message
        with another Message-ID (it was edited or replaced by hand).
        """
        target = self.folder / outbox_file_name(reply.message_id)
        try:
            with target.open("rb") as handle:
                head = handle.read(256 * 1024)
                size = os.fstat(handle.fileno()).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _read_error(target, exc) from exc
        if peek_message_id(head) != normalise_message_id(reply.message_id):
            raise ConflictError(
                f"{target} should hold the reply {reply.message_id} but carries another Message-ID; "
                "move it away and retry"
            )
        return self._receipt(target, size)

    def _receipt(self, path: Path, size: int) -> EffectReceipt:
        return EffectReceipt(external_id=path.name, destination=LOCAL, detail={"size": size})

    def _ensure_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(self.folder, exc) from exc

    def _write_temp(self, data: bytes) -> Path:
        """Write ``data`` to a new hidden file in the outbox folder, flushed to disk; return its path."""
        try:
            handle, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=self.folder)
        except OSError as exc:
            raise _write_error(self.folder, exc) from exc
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            _discard(path)
            raise _write_error(self.folder, exc) from exc
        return path

    def _remove_stale_temp_files(self) -> None:
        """Delete temporary files a crashed writer left behind (old enough not to be in use)."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        try:
            leftovers = list(self.folder.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"))
        except OSError:
            return
        for path in leftovers:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue  # in use, gone already or not ours to remove; it is harmless either way


def _check_mime_carries_id(reply: OutgoingReply) -> None:
    """Refuse a reply whose MIME lacks its Message-ID: it could never be found again by find_sent."""
    expected = normalise_message_id(reply.message_id)
    if expected is None or peek_message_id(reply.mime) != expected:
        raise ConnectorPermanentError(
            f"the reply's MIME does not carry its Message-ID {reply.message_id!r}; refusing to store it"
        )


def _sync_directory(folder: Path) -> None:
    """Flush a folder's entries to disk so a rename survives a power cut (POSIX only)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        return  # removed already or not removable; the stale-file sweep deals with it later


def _write_error(path: Path, exc: OSError) -> Exception:
    if isinstance(exc, PermissionError):
        return LocalMailboxError(f"cannot write to the outbox {path}: permission denied", path=str(path))
    return LocalMailboxIOError(f"cannot write to the outbox {path}: {exc.strerror or exc}", path=str(path))


def _read_error(path: Path, exc: OSError) -> Exception:
    if isinstance(exc, PermissionError):
        return LocalMailboxError(f"cannot read {path}: permission denied", path=str(path))
    return LocalMailboxIOError(f"cannot read {path}: {exc.strerror or exc}", path=str(path))
