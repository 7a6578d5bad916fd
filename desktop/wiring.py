"""The composition root: read the profile's settings, build the connectors, hand them to the engine.

Both the command line and the desktop window open a profile through :func:`open_service`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from connectors.accounts import (
    Account,
    AccountBook,
    MailConnections,
    Toolkit,
    build_mail_connections,
    egress_hosts,
    http_factory,
    idle_watchers,
)
from connectors.ai_book import ProviderBook
from connectors.crm import CrmBase, build_crm
from connectors.crm.book import CrmBook
from connectors.crm.settings import CrmSettings
from connectors.http import EgressEvent, EgressObserver, EgressPolicy, HttpClientFactory
from connectors.imap.idle import IdleWatcher
from connectors.imap.session import ConnectionStatus, StatusCallback
from connectors.local_folder import EmlFolderSource, MaildirSource, MboxSource, demo_source
from connectors.outbox import OutboxFolderSender
from connectors.providers import ProviderBase, build_provider
from connectors.secrets import KeyringSecretStore
from engine.ai.settings import AiSettings
from engine.audit.event import NewAuditEvent
from engine.errors import ConfigurationError
from engine.ports import CrmClient, MailSender, MailSource, SecretStore
from engine.profile import Profile, resolve_profile_dir
from engine.service import Connections, TriageService, open_database
from engine.settings import OfficeSettings
from engine.settings_store import SettingsStore
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.token_usage import DatabaseTokenUsageLedger

log = logging.getLogger(__name__)

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
    accounts: list[Account],
    secrets: SecretStore,
    status: StatusCallback | None = None,
    http: HttpClientFactory | None = None,
) -> Toolkit:
    """What building the accounts' connectors needs: secrets, an HTTP factory allowing their hosts.

    ``http`` is the profile's shared (audited) factory; without it one allowing only the
    accounts' hosts is made.
    """
    return Toolkit(secrets, http or http_factory(accounts), status=status or log_connection_status)


def mail_connections(
    db: Database,
    secrets: SecretStore,
    status: StatusCallback | None = None,
    http: HttpClientFactory | None = None,
) -> MailConnections | None:
    """Sources and sender for the configured mail accounts, or None when there are none."""
    accounts = AccountBook(SettingsStore(db), secrets).accounts()
    if not accounts:
        return None
    return build_mail_connections(accounts, account_toolkit(accounts, secrets, status, http))


# --- egress: one allow-list, every call audited ----------------------------------------------------

#: Audit actions of outbound HTTP calls.
EGRESS_CALL = "egress.call"
EGRESS_REFUSED = "egress.refused"
_PATH_CHARS = 200


def egress_policy(accounts: Iterable[Account], ai: AiSettings, crm: CrmSettings | None) -> EgressPolicy:
    """The hosts the profile may reach: its accounts', AI providers' and CRM's, and no others."""
    hosts = set(egress_hosts(accounts)) | set(ai.hosts())
    if crm is not None and crm.host:
        hosts.add(crm.host)
    return EgressPolicy(hosts)


def egress_audit_event(event: EgressEvent) -> NewAuditEvent:
    """The audit record of one outbound call: ``egress.call`` (outcome ``2xx``… or the error's
    class name) or ``egress.refused`` for a host off the allow-list. Never the query string."""
    detail: dict[str, object] = {
        "method": event.method,
        "path": event.path[:_PATH_CHARS],
        "purpose": event.purpose,
    }
    if not event.allowed:
        return NewAuditEvent(
            action=EGRESS_REFUSED, outcome="refused", destination=event.host or "unknown", detail=detail
        )
    outcome = f"{event.status // 100}xx" if event.status is not None else event.error or "error"
    detail.update(status=event.status, elapsed_ms=int(event.elapsed_ms))
    if event.error is not None:
        detail["error"] = event.error
    return NewAuditEvent(action=EGRESS_CALL, outcome=outcome, destination=event.host, detail=detail)


def egress_auditor(db: Database) -> EgressObserver:
    """An observer appending one audit event per HTTP call, in its own small write transaction.

    It runs on whichever thread made the call. It never raises (the HTTP client's contract): an
    audit write that fails is logged as an error, and the call itself goes on.
    """

    def observe(event: EgressEvent) -> None:
        try:
            with db.write() as conn:
                audit_repo.append(conn, [egress_audit_event(event)])
        except Exception:  # must not break the call: logged, not dropped
            log.exception("could not audit the HTTP call to %s", event.host)

    return observe


# --- AI providers and the CRM ----------------------------------------------------------------------


@dataclass
class WiredConnections(Connections):
    """The engine's connections plus what the composition root must keep to refresh and close them."""

    http: HttpClientFactory | None = None
    mail: MailConnections | None = None
    closables: list[ProviderBase | CrmBase] = field(default_factory=list)

    def close(self) -> None:
        """Close the sources, the mail sessions, the AI providers' and the CRM's HTTP clients."""
        super().close()
        if self.mail is not None:
            self.mail.close()
        for item in self.closables:
            item.close()


def build_providers(ai: AiSettings, http: HttpClientFactory, secrets: SecretStore) -> dict[str, ProviderBase]:
    """One connector per configured provider (no network until used); an invalid one is skipped
    with a warning in the log rather than stopping the profile from opening."""
    built: dict[str, ProviderBase] = {}
    for settings in ai.providers:
        try:
            built[settings.name] = build_provider(settings, http, secrets)
        except ConfigurationError as exc:
            log.warning("AI provider %r is not used: %s", settings.name, exc)
    return built


def chain_of(providers: dict[str, ProviderBase], names: Iterable[str]) -> tuple[ProviderBase, ...]:
    """The providers named in a chain, in its order (names without a built provider are left out)."""
    return tuple(providers[name] for name in names if name in providers)


def remote_crm(settings: CrmSettings | None, http: HttpClientFactory, secrets: SecretStore) -> CrmBase | None:
    """The connected CRM's connector, or None for the built-in contacts (or an invalid section)."""
    if settings is None:
        return None
    try:
        return build_crm(settings, http, secrets)
    except ConfigurationError as exc:
        log.warning("the CRM %r is not used: %s", settings.name, exc)
        return None


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
    an SMTP or Microsoft 365 account replaces the local outbox as the sender; so are the AI
    providers (the classify and draft chains hold exactly the providers they name, in order) and
    the connected CRM. Every HTTP connector shares one client factory whose allow-list is the
    configured services' hosts and whose observer audits each call. ``status`` receives
    connection news ("reconnecting in 8 s"); by default it is logged.
    """
    secrets = KeyringSecretStore()
    if db is None:
        outbox = OutboxFolderSender(profile.outbox_dir)
        return WiredConnections(sender=outbox, sources=configured_sources(profile), secrets=secrets)
    store = SettingsStore(db)
    accounts = AccountBook(store, secrets).accounts()
    ai = ProviderBook(store).settings()
    crm_settings = CrmBook(store).current()
    http = HttpClientFactory(egress_policy(accounts, ai, crm_settings), egress_auditor(db))
    mail = (
        build_mail_connections(accounts, account_toolkit(accounts, secrets, status, http))
        if accounts
        else None
    )
    sender: MailSender = OutboxFolderSender(profile.outbox_dir)
    if mail is not None and mail.sender is not None:
        sender = mail.sender
    providers = build_providers(ai, http, secrets)
    crm = remote_crm(crm_settings, http, secrets)
    return WiredConnections(
        sender=sender,
        sources=configured_sources(profile, mail),
        crm=cast("CrmClient | None", crm),
        ai_providers=tuple(providers.values()),
        classify_chain=chain_of(providers, ai.classify_chain),
        draft_chain=chain_of(providers, ai.draft_chain),
        token_usage=DatabaseTokenUsageLedger(db),
        secrets=secrets,
        http=http,
        mail=mail,
        closables=[*providers.values(), *([crm] if crm is not None else [])],
    )


def reconnect(service: TriageService, *, status: StatusCallback | None = None) -> WiredConnections:
    """Rebuild the connectors from the stored settings and hand them to the running ``service``.

    Call after Settings changed accounts, providers or the CRM (on a worker: it waits for a
    running poll). The old clients' allow-list is narrowed to the new one at once, so a removed
    service gets no further traffic even from work already under way; then they are closed.
    """
    fresh = build_connections(service.profile, service.db, status=status)
    assert isinstance(fresh, WiredConnections)
    old = service.replace_connections(fresh)
    if isinstance(old, WiredConnections) and old.http is not None and fresh.http is not None:
        old.http.set_policy(fresh.http.policy)
    old.close()
    return fresh


def factory_for(service: TriageService, host: str) -> HttpClientFactory:
    """For "Test connection": the service's shared, audited client factory when its allow-list has
    ``host`` (a configured service), else an audited factory allowing ``host`` alone."""
    shared = getattr(service.connections, "http", None)
    if isinstance(shared, HttpClientFactory) and shared.policy.allows(host):
        return shared
    return HttpClientFactory(EgressPolicy([host]), egress_auditor(service.db))


def open_service(profile_dir: str | Path | None, *, status: StatusCallback | None = None) -> TriageService:
    """Open (creating and migrating when needed) the profile and its engine."""
    profile = Profile(resolve_profile_dir(profile_dir))
    db = open_database(profile)
    return TriageService(profile, db, build_connections(profile, db, status=status))


def start_idle_watchers(
    service: TriageService, on_new_mail: Callable[[str], None], status: StatusCallback | None = None
) -> list[IdleWatcher]:
    """Start one IDLE watcher per IMAP account that has push on; stop them with ``watcher.stop()``."""
    connections = service.connections
    secrets = connections.secrets or KeyringSecretStore()
    http = connections.http if isinstance(connections, WiredConnections) else None
    accounts = AccountBook(service.settings, secrets).accounts()
    watchers = idle_watchers(accounts, account_toolkit(accounts, secrets, status, http), on_new_mail)
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
