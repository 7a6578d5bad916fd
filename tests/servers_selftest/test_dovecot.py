"""The Dovecot fixture: TLS logins, capabilities, seeding, isolation between tests, restart."""

from __future__ import annotations

import imaplib
import ssl
import time

import pytest

from tests.servers.dovecot import DovecotMailbox

MESSAGE = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\n"
    b"Message-ID: <m1@example.com>\r\n\r\nbody\r\n"
)


def test_imaps_login_verifies_with_the_test_ca(dovecot: DovecotMailbox) -> None:
    """IMAPS with a context trusting only the test CA logs in; the socket is really TLS."""
    connection = dovecot.connect(security="imaps")
    try:
        assert isinstance(connection, imaplib.IMAP4_SSL)
        assert connection.state == "AUTH"
    finally:
        connection.logout()


def test_imaps_rejects_an_untrusted_certificate(dovecot: DovecotMailbox) -> None:
    """Without the test CA the certificate does not verify: proof that verification is on."""
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(
            dovecot.host, dovecot.imaps_port, ssl_context=ssl.create_default_context(), timeout=10
        )


def test_starttls_login(dovecot: DovecotMailbox) -> None:
    """Plain IMAP port upgraded with STARTTLS, then login."""
    connection = dovecot.connect(security="starttls")
    try:
        assert connection.state == "AUTH"
        assert "STARTTLS" not in connection.capabilities  # already upgraded
    finally:
        connection.logout()


def test_wrong_password_is_refused(dovecot: DovecotMailbox) -> None:
    """A wrong password fails with an IMAP error; the right one still works afterwards."""
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        dovecot.connect(password="not-the-password")
    dovecot.connect().logout()


def test_capabilities_after_login(dovecot: DovecotMailbox) -> None:
    """IDLE, CONDSTORE, QRESYNC, UIDPLUS and MOVE are offered."""
    connection = dovecot.connect()
    try:
        status, data = connection.capability()
        assert status == "OK"
        capabilities = set(data[0].decode().upper().split())
    finally:
        connection.logout()
    assert {"IDLE", "CONDSTORE", "QRESYNC", "UIDPLUS", "MOVE", "SPECIAL-USE"} <= capabilities


def test_append_then_fetch(dovecot: DovecotMailbox) -> None:
    """A seeded message comes back byte for byte with its flag, and lands in the user's Maildir."""
    uid = dovecot.append(dovecot.user, "INBOX", MESSAGE, flags=[r"\Flagged"])
    connection = dovecot.connect()
    try:
        connection.select("INBOX", readonly=True)
        status, data = connection.uid("FETCH", str(uid), "(FLAGS BODY.PEEK[])")
    finally:
        connection.logout()
    assert status == "OK"
    envelope, body = data[0]
    assert body == MESSAGE
    assert rb"\Flagged" in envelope
    assert (
        len(list((dovecot.maildir_path() / "cur").iterdir()))
        + len(list((dovecot.maildir_path() / "new").iterdir()))
        == 1
    )


def test_append_to_a_new_folder_and_special_folders_exist(dovecot: DovecotMailbox) -> None:
    """append() creates a missing folder; Sent (\\Sent) exists for every user."""
    uids = dovecot.append_many(dovecot.user, "Projects/2026", [MESSAGE, MESSAGE])
    assert uids == [1, 2]
    connection = dovecot.connect()
    try:
        _, listing = connection.list()
    finally:
        connection.logout()
    lines = [line.decode() for line in listing if isinstance(line, bytes)]
    assert any(r"\Sent" in line and line.endswith(" Sent") for line in lines)
    assert any("Projects" in line for line in lines)


def test_each_test_gets_its_own_mailbox(dovecot: DovecotMailbox) -> None:
    """Another user's mail is invisible to this test's user."""
    other = dovecot.add_user()
    dovecot.append(other.name, "INBOX", MESSAGE)
    connection = dovecot.connect()
    try:
        status, data = connection.select("INBOX", readonly=True)
    finally:
        connection.logout()
    assert status == "OK"
    assert data == [b"0"]


def test_restart_keeps_ports_and_mail(dovecot: DovecotMailbox) -> None:
    """restart() stops the old master (its PID is gone) and serves the same mail on the same ports."""
    dovecot.append(dovecot.user, "INBOX", MESSAGE)
    old_pid = dovecot.server.pid
    ports = (dovecot.imap_port, dovecot.imaps_port)
    dovecot.restart()
    assert dovecot.server.pid not in (None, old_pid)
    assert (dovecot.imap_port, dovecot.imaps_port) == ports
    connection = dovecot.connect()
    try:
        _, data = connection.select("INBOX", readonly=True)
    finally:
        connection.logout()
    assert data == [b"1"]


def test_stopped_server_refuses_connections(dovecot: DovecotMailbox) -> None:
    """stop() really stops it (the fixture starts it again for the next test)."""
    dovecot.stop()
    assert not dovecot.server.running
    with pytest.raises(ConnectionRefusedError):
        imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=5)
    dovecot.start()
    dovecot.connect().logout()


def _uid_state(dovecot: DovecotMailbox, folder: str) -> tuple[int, list[int]]:
    """(UIDVALIDITY, UIDs) of a folder."""
    connection = dovecot.connect()
    try:
        connection.select(_quoted(folder), readonly=True)
        _, validity = connection.response("UIDVALIDITY")
        _, data = connection.uid("SEARCH", "ALL")
    finally:
        connection.logout()
    assert validity[0] is not None
    assert data[0] is not None
    return int(validity[0]), [int(uid) for uid in data[0].split()]


def _quoted(folder: str) -> str:
    """Quote a folder name for imaplib."""
    return f'"{folder}"'


@pytest.mark.parametrize("folder", ["INBOX", "Archive/2025"])
def test_reset_uid_validity_renumbers_and_keeps_mail(dovecot: DovecotMailbox, folder: str) -> None:
    """A lost UID list: new UIDVALIDITY, UIDs from 1 again, the same messages."""
    dovecot.append_many(dovecot.user, folder, [MESSAGE, MESSAGE, MESSAGE])
    connection = dovecot.connect()
    try:
        connection.select(_quoted(folder))
        connection.uid("STORE", "1:2", "+FLAGS.SILENT", r"(\Deleted)")
        connection.expunge()
    finally:
        connection.logout()
    validity_before, uids_before = _uid_state(dovecot, folder)
    assert uids_before == [3]
    dovecot.reset_uid_validity(folder)
    validity_after, uids_after = _uid_state(dovecot, folder)
    assert validity_after != validity_before
    assert uids_after == [1]


def test_idle_reports_new_mail_at_once(dovecot: DovecotMailbox) -> None:
    """IDLE push: mail appended by another connection is announced within two seconds."""
    connection = dovecot.connect()
    try:
        connection.select("INBOX")
        connection.send(b"I1 IDLE\r\n")
        assert connection.readline().startswith(b"+")
        started = time.monotonic()
        dovecot.append(dovecot.user, "INBOX", MESSAGE)
        connection.sock.settimeout(2.0)
        line = connection.readline()
        elapsed = time.monotonic() - started
        connection.send(b"DONE\r\n")
        assert _read_until_tagged(connection, b"I1").startswith(b"I1 OK")
    finally:
        connection.shutdown()
    assert line.strip() == b"* 1 EXISTS"
    assert elapsed < 2.0


def _read_until_tagged(connection: imaplib.IMAP4, tag: bytes, limit: int = 20) -> bytes:
    """Skip untagged lines (e.g. "* 1 RECENT") and return the tagged completion line."""
    for _ in range(limit):
        line = connection.readline()
        if not line or line.startswith(tag + b" "):
            return line
    raise AssertionError(f"no {tag!r} completion within {limit} lines")
