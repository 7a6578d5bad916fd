"""The composition root: read the profile's settings, build the connectors, hand them to the engine.

Both the command line and the desktop window open a profile through :func:`open_service`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from connectors.local_folder import EmlFolderSource, MaildirSource, MboxSource, demo_source
from connectors.outbox import OutboxFolderSender
from connectors.secrets import KeyringSecretStore
from engine.errors import ConfigurationError
from engine.ports import MailSource
from engine.profile import Profile, resolve_profile_dir
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings

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


def configured_sources(profile: Profile) -> dict[str, MailSource]:
    """The mail sources the profile is configured for."""
    sources: dict[str, MailSource] = {}
    if is_demo(profile):
        source = demo_source()
        sources[source.account] = source
    return sources


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


def build_connections(profile: Profile) -> Connections:
    """Connectors for the profile as configured (the embedded defaults when nothing is)."""
    return Connections(
        sender=OutboxFolderSender(profile.outbox_dir),
        sources=configured_sources(profile),
        secrets=KeyringSecretStore(),
    )


def open_service(profile_dir: str | Path | None) -> TriageService:
    """Open (creating and migrating when needed) the profile and its engine."""
    profile = Profile(resolve_profile_dir(profile_dir))
    db = open_database(profile)
    return TriageService(profile, db, build_connections(profile))


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
        service = TriageService(profile, db, build_connections(profile))
        service.settings.save_office(DEMO_OFFICE, actor=None)
    finally:
        db.dispose()
    return profile
