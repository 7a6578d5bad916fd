"""The composition root: read the profile's settings, build the connectors, hand them to the engine.

Both the command line and the desktop window open a profile through :func:`open_service`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from connectors.accounts import (
    Account,
    AccountBook,
    MailConnections,
    Toolkit,
    build_mail_connections,
    http_factory,
    idle_watchers,
)
from connectors.imap.idle import IdleWatcher
from connectors.imap.session import ConnectionStatus, StatusCallback
from connectors.local_folder import EmlFolderSource, MaildirSource, MboxSource, demo_source
from connectors.outbox import OutboxFolderSender
from connectors.secrets import KeyringSecretStore
from engine.errors import ConfigurationError
from engine.ports import MailSender, MailSource, SecretStore
from engine.profile import Profile, resolve_profile_dir
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings
from engine.settings_store import SettingsStore
from engine.storage.db import Database

DEMO_FLAG = "demo"

#: The office the bundled demo mailbox was written for.
DEMO_OFFICE = OfficeSettings(
    office_name="Thornbury & Webb Print Studio",
    reply_from="hello@thornburywebb.co.uk",
    reply_from_name="Thornbury & Webb",
    signature="Thornbury & Webb Print Studio\n12 Gloucester Road, Bristol\n0117 496 0000",
    facts="Open Monday to Friday, 9am to 5:30pm. Standard delivery 3–5 working days.",
    message_id_domain="thornburywebb.co.uk",
)


def is_demo(profile: Profile) -> bool:
    """Whether the profile was created as a demo (it then reads the bundled demo mailbox)."""
    return bool(profile.config().get(DEMO_FLAG))


def configured_sources(profile: Profile, mail: MailConnections | None = None) -> dict[str, MailSource]:
    """The mail sources the profile is configured for: the demo mailbox, then the mail accounts."""
    sources: dict[str, MailSource] = {}
    if is_demo(profile):
        source = demo_source()
        sources[source.account] = source
    if mail is not None:
        sources.update(mail.sources)
    return sources


def log_connection_status(status: ConnectionStatus) -> None:
    """The default place for "reconnecting in 8 s": the log (the desktop shows it in its status bar)."""
    level = logging.INFO if status.state in ("connected", "idle", "stopped") else logging.WARNING
    logging.getLogger("inbox_triage.connections").log(level, "%s", status.message)


def account_toolkit(
    accounts: list[Account], secrets: SecretStore, status: StatusCallback | None = None
) -> Toolkit:
    """What building the accounts' connectors needs: secrets, an HTTP factory allowing their hosts."""
    return Toolkit(secrets, http_factory(accounts), status=status or log_connection_status)


def mail_connections(
    db: Database, secrets: SecretStore, status: StatusCallback | None = None
) -> MailConnections | None:
    """Sources and sender for the configured mail accounts, or None when there are none."""
    accounts = AccountBook(SettingsStore(db), secrets).accounts()
    if not accounts:
        return None
    return build_mail_connections(accounts, account_toolkit(accounts, secrets, status))


def source_from_spec(spec: str) -> MailSource:
    """A source named on the command line: ``demo``, ``eml:DIR``, ``maildir:DIR`` or ``mbox:FILE``."""
    kind, _, location = spec.partition(":")
    if kind == "demo" and not location:
        return demo_source()
    if not location:
        raise ConfigurationError(f"--source {spec!r}: expected demo, eml:DIR, maildir:DIR or mbox:FILE")
    path = Path(location).expanduser().resolve()
    if kind == "eml":
        if not path.is_dir():
            raise ConfigurationError(f"--source {spec!r}: {path} is not a folder")
        return EmlFolderSource(path)
    if kind == "maildir":
        if not path.is_dir():
            raise ConfigurationError(f"--source {spec!r}: {path} is not a Maildir folder")
        return MaildirSource(path)
    if kind == "mbox":
        if not path.is_file():
            raise ConfigurationError(f"--source {spec!r}: {path} is not an mbox file")
        return MboxSource(path)
    raise ConfigurationError(f"--source {spec!r}: unknown kind {kind!r}; use demo, eml, maildir or mbox")


def build_connections(
    profile: Profile, db: Database | None = None, *, status: StatusCallback | None = None
) -> Connections:
    """Connectors for the profile as configured (the embedded defaults when nothing is).

    With ``db``, the mail accounts stored in it are built too: their sources join the demo's, and
    an SMTP or Microsoft 365 account replaces the local outbox as the sender. ``status`` receives
    connection news ("reconnecting in 8 s"); by default it is logged.
    """
    secrets = KeyringSecretStore()
    mail = mail_connections(db, secrets, status) if db is not None else None
    sender: MailSender = OutboxFolderSender(profile.outbox_dir)
    if mail is not None and mail.sender is not None:
        sender = mail.sender
    return Connections(sender=sender, sources=configured_sources(profile, mail), secrets=secrets)


def open_service(profile_dir: str | Path | None, *, status: StatusCallback | None = None) -> TriageService:
    """Open (creating and migrating when needed) the profile and its engine."""
    profile = Profile(resolve_profile_dir(profile_dir))
    db = open_database(profile)
    return TriageService(profile, db, build_connections(profile, db, status=status))


def start_idle_watchers(
    service: TriageService, on_new_mail: Callable[[str], None], status: StatusCallback | None = None
) -> list[IdleWatcher]:
    """Start one IDLE watcher per IMAP account that has push on; stop them with ``watcher.stop()``."""
    secrets = service.connections.secrets or KeyringSecretStore()
    accounts = AccountBook(service.settings, secrets).accounts()
    watchers = idle_watchers(accounts, account_toolkit(accounts, secrets, status), on_new_mail)
    for watcher in watchers:
        watcher.start()
    return watchers


def create_demo_profile(root: Path | None = None) -> Profile:
    """A fresh demo profile (a new temporary folder unless ``root`` is given and empty)."""
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="inbox-triage-demo-"))
    elif root.exists() and any(root.iterdir()):
        raise ConfigurationError(f"{root} is not empty; choose a new folder for the demo profile")
    profile = Profile(root.resolve())
    profile.ensure()
    profile.write_config({DEMO_FLAG: True})
    db = open_database(profile)
    try:
        service = TriageService(profile, db, build_connections(profile, db))
        service.settings.save_office(DEMO_OFFICE, actor=None)
    finally:
        db.dispose()
    return profile
