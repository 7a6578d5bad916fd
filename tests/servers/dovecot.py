"""A real Dovecot IMAP server per test session, and a fresh mail user per test.

Follows the verified recipe in shared/notes/test-servers.md: a world-searchable temp dir, a
passwd-file of users, maildir storage owned by `nobody`, IMAP (plain + STARTTLS) and IMAPS on free
loopback ports, the session's self-signed certificate. Dovecot 2.3's defaults offer IDLE,
CONDSTORE, QRESYNC, UIDPLUS and MOVE after login.
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from tests.support.binaries import requires_binary
from tests.support.certs import CertificateBundle
from tests.support.ports import LOOPBACK, free_port
from tests.support.processes import (
    START_TIMEOUT_S,
    ServerStartError,
    log_tail,
    start_process,
    stop_process,
    wait_for_port,
)

Security = Literal["imaps", "starttls", "plain"]

DEFAULT_USERS = {"test": "testpass", "alice": "alicepass", "bob": "bobpass"}
SPECIAL_FOLDERS = {
    "Sent": r"\Sent",
    "Drafts": r"\Drafts",
    "Trash": r"\Trash",
    "Junk": r"\Junk",
    "Archive": r"\Archive",
}
_START_ATTEMPTS = 3
_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_user_numbers = itertools.count(1)


@dataclass(frozen=True)
class MailUser:
    """An IMAP login on the test Dovecot."""

    name: str
    password: str


class DovecotServer:
    """One Dovecot instance in its own directory; start, stop and restart keep its ports and mail."""

    host = LOOPBACK

    def __init__(self, binary: str, base_dir: Path, certificates: CertificateBundle) -> None:
        """Prepare (but do not start) an instance under `base_dir` using the session's certificate."""
        self.binary = binary
        self.base_dir = base_dir
        self.certificates = certificates
        self.ca_file = certificates.ca_file
        self.users: dict[str, str] = dict(DEFAULT_USERS)
        self.imap_port = 0
        self.imaps_port = 0
        self.start_seconds: list[float] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._mail_dir = base_dir / "mail"
        self._users_dir = base_dir / "users"
        self._config_file = base_dir / "dovecot.conf"
        self._log_file = base_dir / "dovecot.log"
        self._output_file = base_dir / "dovecot.out"
        self._prepare_directories()
        self._write_users()

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the Dovecot master process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """PID of the Dovecot master, or None when stopped."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self) -> None:
        """Start Dovecot (on new free ports the first time) and wait until both ports accept."""
        if self.running:
            return
        first_start = self.imap_port == 0
        for attempt in range(1, _START_ATTEMPTS + 1):
            if first_start:
                self.imap_port, self.imaps_port = free_port(), free_port()
                self._write_config()
            try:
                self._start_once()
                return
            except ServerStartError:
                if not first_start or attempt == _START_ATTEMPTS or "in use" not in self.log_text():
                    raise

    def stop(self) -> None:
        """Stop Dovecot by PID (SIGTERM, then SIGKILL after a timeout) and wait until it is gone."""
        if self._process is not None:
            stop_process(self._process)
            self._process = None

    def restart(self) -> None:
        """Stop and start the same instance: same ports, same users, same mail."""
        self.stop()
        self.start()

    def kick(self, user: str = "*") -> None:
        """Close every IMAP connection of `user` (all users by default) with `doveadm kick`.

        Stopping the master leaves sessions already logged in running; a real restart or upgrade
        with client shutdown ends them: kick, then restart.
        """
        doveadm = shutil.which("doveadm") or str(Path(self.binary).with_name("doveadm"))
        subprocess.run([doveadm, "-c", str(self._config_file), "kick", user], check=True, capture_output=True)

    def log_text(self) -> str:
        """Return Dovecot's log so far (and anything it printed to stdout/stderr)."""
        parts = [
            path.read_text(errors="replace") for path in (self._output_file, self._log_file) if path.exists()
        ]
        return "".join(parts)

    # --- users and mail ----------------------------------------------------------------------------

    def add_user(self, name: str | None = None, password: str | None = None) -> MailUser:
        """Add a login (a unique name and a random password by default) and return it."""
        name = name or f"user{next(_user_numbers):04d}-{secrets.token_hex(3)}"
        if not _USER_NAME.fullmatch(name) or name in self.users:
            raise ValueError(f"user name {name!r} is taken or not a plain name")
        password = password or secrets.token_urlsafe(12)
        self.users[name] = password
        self._write_users()
        return MailUser(name, password)

    def maildir_path(self, user: str) -> Path:
        """Return the root of `user`'s Maildir (INBOX's cur/new/tmp live here)."""
        return self._mail_dir / user

    def folder_path(self, user: str, folder: str = "INBOX") -> Path:
        """Return the Maildir++ directory of `user`'s `folder` ("A/B" lives in ".A.B")."""
        if folder.upper() == "INBOX":
            return self.maildir_path(user)
        return self.maildir_path(user) / ("." + folder.replace("/", "."))

    def reset_uid_validity(self, user: str, folder: str = "INBOX") -> None:
        """Make `folder` get a new UIDVALIDITY and renumbered UIDs, keeping its messages.

        Done as it happens in real life: the server loses its UID list and index (stopped,
        files removed, started again), so clients must resync and must not duplicate mail.
        """
        self.stop()
        directory = self.folder_path(user, folder)
        for path in directory.iterdir():
            if path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index"):
                path.unlink()
        self.start()

    def connect(self, user: str, password: str | None = None, security: Security = "imaps") -> imaplib.IMAP4:
        """Return an imaplib connection logged in as `user` over IMAPS, STARTTLS or plain IMAP."""
        context = self.certificates.client_context()
        connection: imaplib.IMAP4
        if security == "imaps":
            connection = imaplib.IMAP4_SSL(self.host, self.imaps_port, ssl_context=context, timeout=10)
        else:
            connection = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        try:
            if security == "starttls":
                connection.starttls(ssl_context=context)
            connection.login(user, password if password is not None else self.users[user])
        except BaseException:
            connection.shutdown()
            raise
        return connection

    def append(self, user: str, folder: str, raw: bytes, flags: Iterable[str] = ()) -> int:
        """Append one message to `user`'s `folder` (created if missing) and return its UID."""
        return self.append_many(user, folder, [raw], flags)[0]

    def append_many(
        self, user: str, folder: str, messages: Iterable[bytes], flags: Iterable[str] = ()
    ) -> list[int]:
        """Append messages over one connection (for seeding) and return their UIDs in order."""
        flag_list = f"({' '.join(flags)})" if flags else None
        connection = self.connect(user)
        try:
            if folder.upper() != "INBOX":
                connection.create(_quote(folder))  # NO when it already exists: fine
            uids = []
            for raw in messages:
                status, data = connection.append(_quote(folder), flag_list, None, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND to {folder!r} failed: {data!r}")
                uids.append(_appended_uid(data))
            return uids
        finally:
            connection.logout()

    # --- internals ---------------------------------------------------------------------------------

    def _start_once(self) -> None:
        """Launch the master in the foreground (-F) and wait for both listeners."""
        started = time.monotonic()
        self._process = start_process([self.binary, "-F", "-c", str(self._config_file)], self._output_file)
        logs = (self._output_file, self._log_file)
        try:
            wait_for_port(self.host, self.imap_port, process=self._process, logs=logs)
            wait_for_port(self.host, self.imaps_port, process=self._process, logs=logs)
            self._wait_for_greeting()
        except ServerStartError:
            stop_process(self._process)
            self._process = None
            raise
        self.start_seconds.append(time.monotonic() - started)

    def _wait_for_greeting(self) -> None:
        """Read the "* OK" greeting: sent once imap-login is connected to auth, so Dovecot is ready.

        (Stopping a Dovecot whose login process is still starting takes 6 s instead of 1 s.)
        """
        logs = (self._output_file, self._log_file)
        try:
            with socket.create_connection((self.host, self.imap_port), timeout=START_TIMEOUT_S) as sock:
                greeting = sock.makefile("rb").readline()
        except OSError as exc:
            raise ServerStartError(f"no IMAP greeting: {exc}\n" + log_tail(*logs)) from exc
        if not greeting.startswith(b"* OK"):
            raise ServerStartError(f"unexpected IMAP greeting {greeting!r}\n" + log_tail(*logs))

    def _prepare_directories(self) -> None:
        """Create the instance dirs; Dovecot's auth process (user dovecot) must reach the users file."""
        self.base_dir.chmod(0o755)
        self._mail_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self._mail_dir, "nobody", "nogroup")

    def _write_users(self) -> None:
        """Write one passwd-file per user, atomically.

        One file per user because Dovecot checks a passwd-file for changes at most once a second:
        a user added to a shared file right after a login would be unknown for up to a second.
        """
        self._users_dir.mkdir(exist_ok=True)
        self._users_dir.chmod(0o755)
        for name, password in self.users.items():
            path = self._users_dir / name
            temporary = path.with_suffix(".new")
            temporary.write_text(f"{name}:{{PLAIN}}{password}\n")
            temporary.chmod(0o644)
            os.replace(temporary, path)

    def _write_config(self) -> None:
        """Write dovecot.conf for the current ports."""
        self._config_file.write_text(
            _CONFIG.format(
                base=self.base_dir,
                cert=self.certificates.cert_file,
                key=self.certificates.key_file,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
                identity=_identity_settings(self.base_dir),
                folders=_special_folders(),
            )
        )


@dataclass
class DovecotMailbox:
    """What a test gets from the `dovecot` fixture: the session's server and a fresh user of its own."""

    server: DovecotServer
    user: str
    password: str

    @property
    def host(self) -> str:
        """Loopback address Dovecot listens on."""
        return self.server.host

    @property
    def imap_port(self) -> int:
        """Port for plain IMAP and STARTTLS."""
        return self.server.imap_port

    @property
    def imaps_port(self) -> int:
        """Port for IMAP over implicit TLS."""
        return self.server.imaps_port

    @property
    def ca_file(self) -> Path:
        """CA certificate that verifies the server's certificate."""
        return self.server.ca_file

    @property
    def users(self) -> dict[str, str]:
        """All logins on the server, name -> password."""
        return self.server.users

    def connect(
        self, user: str | None = None, password: str | None = None, security: Security = "imaps"
    ) -> imaplib.IMAP4:
        """Log in with imaplib (this test's user by default)."""
        user = user or self.user
        return self.server.connect(
            user, password if password is not None else self.server.users[user], security
        )

    def append(self, user: str, folder: str, raw: bytes, flags: Iterable[str] = ()) -> int:
        """Append a message for `user` (see DovecotServer.append) and return its UID."""
        return self.server.append(user, folder, raw, flags)

    def append_many(
        self, user: str, folder: str, messages: Iterable[bytes], flags: Iterable[str] = ()
    ) -> list[int]:
        """Append several messages over one connection and return their UIDs."""
        return self.server.append_many(user, folder, messages, flags)

    def maildir_path(self, user: str | None = None) -> Path:
        """Root of a user's Maildir (this test's user by default)."""
        return self.server.maildir_path(user or self.user)

    def folder_path(self, folder: str = "INBOX", user: str | None = None) -> Path:
        """Maildir++ directory of a folder (this test's user by default)."""
        return self.server.folder_path(user or self.user, folder)

    def reset_uid_validity(self, folder: str = "INBOX", user: str | None = None) -> None:
        """Give a folder a new UIDVALIDITY and renumbered UIDs (restarts the server)."""
        self.server.reset_uid_validity(user or self.user, folder)

    def add_user(self, name: str | None = None, password: str | None = None) -> MailUser:
        """Add another login to the server."""
        return self.server.add_user(name, password)

    def start(self) -> None:
        """Start the server if it is stopped."""
        self.server.start()

    def stop(self) -> None:
        """Stop the server by PID (it is started again after the test if left stopped)."""
        self.server.stop()

    def restart(self) -> None:
        """Stop and start the server: same ports, users and mail."""
        self.server.restart()

    def kick(self, user: str = "*") -> None:
        """Close every IMAP connection of `user` (all users by default)."""
        self.server.kick(user)

    def log_text(self) -> str:
        """Dovecot's log so far."""
        return self.server.log_text()


@pytest.fixture(scope="session")
def dovecot_server(tls_certificates: CertificateBundle) -> Iterator[DovecotServer]:
    """A running Dovecot for the whole session (skips outside CI when Dovecot is not installed)."""
    binary = requires_binary("dovecot", "dovecot-imapd", search_globs=("/usr/sbin",))
    base_dir = Path(tempfile.mkdtemp(prefix="inbox-triage-dovecot-"))
    server = DovecotServer(binary, base_dir, tls_certificates)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: DovecotServer) -> Iterator[DovecotMailbox]:
    """The session's Dovecot with a fresh user for this test; the server is left running afterwards."""
    dovecot_server.start()
    user = dovecot_server.add_user()
    yield DovecotMailbox(dovecot_server, user.name, user.password)
    if not dovecot_server.running:
        dovecot_server.start()


def _appended_uid(data: Sequence[bytes | None]) -> int:
    """Extract the UID from an APPEND response's APPENDUID code (UIDPLUS)."""
    for item in data:
        match = _APPENDUID.search(item or b"")
        if match:
            return int(match.group(1))
    raise RuntimeError(f"APPEND response has no APPENDUID: {data!r}")


def _quote(folder: str) -> str:
    """Quote a folder name for imaplib."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _identity_settings(base: Path) -> str:
    """Users Dovecot runs as: `nobody` for mail when root, else everything as the current user."""
    home = f"home={base}/mail/%u"
    if os.geteuid() == 0:
        return f"userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup {home}\n}}\n"
    me = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    ids = f"uid={os.geteuid()} gid={os.getegid()}"
    return (
        f"default_internal_user = {me}\ndefault_internal_group = {group}\ndefault_login_user = {me}\n"
        f"userdb {{\n  driver = static\n  args = {ids} {home}\n}}\n"
    )


def _special_folders() -> str:
    """namespace mailbox blocks creating the usual special-use folders for every user."""
    return "".join(
        f"  mailbox {name} {{\n    special_use = {use}\n    auto = subscribe\n  }}\n"
        for name, use in SPECIAL_FOLDERS.items()
    )


_CONFIG = """\
instance_name = inbox-triage-test-{imap_port}
base_dir = {base}/run
state_dir = {base}/state
protocols = imap
listen = 127.0.0.1
log_path = {base}/dovecot.log
auth_verbose = yes
auth_failure_delay = 0
# No stats process: a login process started just before shutdown otherwise waits 5 s for it.
stats_writer_socket_path =
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
{folders}}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users/%u
}}
{identity}# Every test logs in from 127.0.0.1: no growing penalty after a wrong-password test.
# No chroot: lets the same config run as a non-root user too.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
"""
