"""Mail accounts: typed settings per kind, validation messages, secrets, and building the connectors.

Three kinds, each a frozen dataclass a settings page can edit field by field:

* :class:`ImapAccount` — a mailbox to watch (IMAP with TLS, STARTTLS, or plain on loopback only);
* :class:`SmtpAccount` — how replies go out; it names the IMAP account whose Sent folder holds
  (and is searched for) copies of the replies;
* :class:`GraphAccount` — a Microsoft 365 mailbox through Microsoft Graph (source and sender).

Gmail is an IMAP plus an SMTP account with :data:`connectors.gmail.GMAIL` presets, logging in
with an app password or XOAUTH2.

``validate()`` on each returns :class:`FieldProblem` messages that say what to fix; the
:class:`AccountBook` adds the checks that need the other accounts (names unique, references
exist, at most one account sends). Settings are stored as JSON in the ``mail_accounts`` section;
secrets never are: passwords, OAuth tokens and msal's token cache live in the keyring under
:func:`secret_name` (``account:<name>:<purpose>``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol
from urllib.parse import urlsplit

from connectors.errors import ConnectorError, ConnectorPermanentError, TlsError
from connectors.gmail import GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI, GoogleOAuth, GoogleOAuthClient
from connectors.graph.auth import DEFAULT_AUTHORITY_HOST, DEFAULT_TENANT, DeviceCode, GraphAuth
from connectors.graph.client import DEFAULT_GRAPH_URL, GraphClient
from connectors.graph.sender import GraphSender
from connectors.graph.source import GraphProcessed, GraphSource
from connectors.http import EgressPolicy, HttpClientFactory
from connectors.imap.diagnose import ConnectionTestResult, StageRecorder, check_dns_and_tcp, diagnose_imap
from connectors.imap.endpoint import SECURITY_MODES, Endpoint, Security, is_loopback
from connectors.imap.idle import IdleWatcher
from connectors.imap.login import Login, OAuth2Login, PasswordLogin
from connectors.imap.sent import SentFolder
from connectors.imap.session import Backoff, ImapSession, StatusCallback
from connectors.imap.source import ImapSource, ProcessedAction
from connectors.smtp import SENT_COPY_MODES, SentCopyMode, SmtpSender, diagnose_smtp
from engine.errors import ConfigurationError, SecretStoreUnavailableError
from engine.ports import MailSender, MailSource, SecretStore

log = logging.getLogger(__name__)

#: The settings section holding the accounts (JSON; never secrets).
SECTION = "mail_accounts"
SECTION_VERSION = 1

AccountKind = Literal["imap", "smtp", "graph"]
KINDS: tuple[AccountKind, ...] = ("imap", "smtp", "graph")
AuthMethod = Literal["password", "xoauth2"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("password", "xoauth2")
ProcessedMode = Literal["flag", "move"]
PROCESSED_MODES: tuple[ProcessedMode, ...] = ("flag", "move")

#: Secret purposes (the last part of a secret's name).
PASSWORD = "password"  # noqa: S105 - the name of a secret, not a secret
OAUTH_TOKENS = "oauth"
OAUTH_CLIENT_SECRET = "oauth-client-secret"  # noqa: S105 - a name
MSAL_CACHE = "msal-cache"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]+")
_KEYWORD = re.compile(r"\$?[A-Za-z0-9_.-]+|\\(Seen|Flagged|Answered)")
_DEFAULT_PORTS = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("smtp", "tls"): 465,
    ("smtp", "starttls"): 587,
    ("smtp", "none"): 25,
}


def secret_name(account: str, purpose: str) -> str:
    """The keyring name of one of an account's secrets: ``account:<name>:<purpose>``."""
    return f"account:{account}:{purpose}"


class MissingSecretError(ConnectorPermanentError):
    """A secret the account needs is not in the keyring (or there is no keyring)."""


class AccountConfigError(ConfigurationError):
    """Account settings that cannot be saved; ``problems`` lists every field to fix."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field, worded for the person filling in the form."""

    field: str
    message: str


# --- the three kinds ---------------------------------------------------------------------------


def _server_problems(host: str, port: int, security: str, ca_file: str) -> list[FieldProblem]:
    problems = []
    if not host or not _HOST.fullmatch(host) or "://" in host:
        problems.append(FieldProblem("host", "enter the server's name, like imap.example.co.uk"))
    if not 0 <= port <= 65535:
        problems.append(FieldProblem("port", "a port is a number from 1 to 65535 (0 = the usual one)"))
    if security not in SECURITY_MODES:
        problems.append(FieldProblem("security", f"choose one of: {', '.join(SECURITY_MODES)}"))
    elif security == "none" and host and not is_loopback(host):
        problems.append(
            FieldProblem(
                "security",
                "an unencrypted connection is only allowed to this computer; choose tls or starttls",
            )
        )
    if ca_file and not os.path.isfile(ca_file):
        problems.append(FieldProblem("ca_file", f"{ca_file} is not a file"))
    return problems


def _oauth_problems(auth: str, client_id: str) -> list[FieldProblem]:
    if auth not in AUTH_METHODS:
        return [FieldProblem("auth", f"choose one of: {', '.join(AUTH_METHODS)}")]
    if auth == "xoauth2" and not client_id:
        return [FieldProblem("oauth_client_id", "XOAUTH2 needs your office's OAuth client id")]
    return []


@dataclass(frozen=True)
class ImapAccount:
    """A mailbox to watch over IMAP."""

    kind: ClassVar[AccountKind] = "imap"

    name: str
    host: str
    username: str
    port: int = 0
    security: Security = "tls"
    auth: AuthMethod = "password"
    ca_file: str = ""
    folder: str = "INBOX"
    processed: ProcessedMode = "flag"
    processed_keyword: str = "$Triaged"
    processed_folder: str = ""
    first_sync_days: int = 14
    idle: bool = True
    oauth_client_id: str = ""
    oauth_auth_uri: str = GOOGLE_AUTH_URI
    oauth_token_uri: str = GOOGLE_TOKEN_URI

    @property
    def effective_port(self) -> int:
        """The port, or the usual one for the security mode."""
        return self.port or _DEFAULT_PORTS[("imap", self.security)]

    def endpoint(self) -> Endpoint:
        """Where the server is."""
        return Endpoint(self.host, self.effective_port, self.security, ca_file=self.ca_file or None)

    def validate(self) -> list[FieldProblem]:
        """Every problem with these settings (empty when they can be saved)."""
        problems = _name_problems(self.name) + _server_problems(
            self.host, self.port, self.security, self.ca_file
        )
        if not self.username:
            problems.append(FieldProblem("username", "enter the login name (often the email address)"))
        problems += _oauth_problems(self.auth, self.oauth_client_id)
        if not self.folder:
            problems.append(FieldProblem("folder", "choose the folder to watch (usually INBOX)"))
        if self.processed not in PROCESSED_MODES:
            problems.append(FieldProblem("processed", "choose flag or move"))
        elif self.processed == "flag" and not _KEYWORD.fullmatch(self.processed_keyword):
            problems.append(
                FieldProblem("processed_keyword", "a keyword like $Triaged, or \\Seen or \\Flagged")
            )
        elif self.processed == "move" and (not self.processed_folder or self.processed_folder == self.folder):
            problems.append(FieldProblem("processed_folder", "choose the folder processed mail is moved to"))
        if not 0 <= self.first_sync_days <= 3650:
            problems.append(FieldProblem("first_sync_days", "a number of days from 0 to 3650"))
        return problems


@dataclass(frozen=True)
class SmtpAccount:
    """How replies are sent over SMTP; copies are filed in (and searched in) an IMAP account's Sent folder."""

    kind: ClassVar[AccountKind] = "smtp"

    name: str
    host: str
    sent_account: str
    username: str = ""
    port: int = 0
    security: Security = "starttls"
    auth: AuthMethod = "password"
    ca_file: str = ""
    sent_folder: str = "Sent"
    sent_copy: SentCopyMode = "append"
    login_from: str = ""
    oauth_client_id: str = ""
    oauth_auth_uri: str = GOOGLE_AUTH_URI
    oauth_token_uri: str = GOOGLE_TOKEN_URI

    @property
    def effective_port(self) -> int:
        """The port, or the usual one for the security mode (465 TLS, 587 STARTTLS)."""
        return self.port or _DEFAULT_PORTS[("smtp", self.security)]

    def endpoint(self) -> Endpoint:
        """Where the server is."""
        return Endpoint(self.host, self.effective_port, self.security, ca_file=self.ca_file or None)

    def validate(self) -> list[FieldProblem]:
        """Every problem with these settings (empty when they can be saved)."""
        problems = _name_problems(self.name) + _server_problems(
            self.host, self.port, self.security, self.ca_file
        )
        if not self.login_from:
            problems += _oauth_problems(self.auth, self.oauth_client_id)
            if self.auth == "xoauth2" and not self.username:
                problems.append(
                    FieldProblem("username", "XOAUTH2 needs the account's address as the login name")
                )
        if not self.sent_account:
            problems.append(
                FieldProblem(
                    "sent_account",
                    "choose the IMAP account whose Sent folder keeps the replies (it is searched before "
                    "a send is retried, so a reply never goes out twice)",
                )
            )
        if not self.sent_folder:
            problems.append(FieldProblem("sent_folder", "enter the Sent folder's name (usually Sent)"))
        if self.sent_copy not in SENT_COPY_MODES:
            problems.append(FieldProblem("sent_copy", f"choose one of: {', '.join(SENT_COPY_MODES)}"))
        return problems


@dataclass(frozen=True)
class GraphAccount:
    """A Microsoft 365 mailbox through Microsoft Graph: a source, and the sender unless ``send`` is off."""

    kind: ClassVar[AccountKind] = "graph"

    name: str
    client_id: str
    tenant: str = DEFAULT_TENANT
    mailbox: str = ""
    folder: str = "inbox"
    processed: ProcessedMode = "flag"
    processed_category: str = "Triaged"
    processed_folder: str = ""
    first_sync_days: int = 14
    send: bool = True
    authority_host: str = DEFAULT_AUTHORITY_HOST
    graph_url: str = DEFAULT_GRAPH_URL
    ca_file: str = ""

    def validate(self) -> list[FieldProblem]:
        """Every problem with these settings (empty when they can be saved)."""
        problems = _name_problems(self.name)
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", self.client_id):
            problems.append(FieldProblem("client_id", "the application (client) id from Entra ID, a GUID"))
        if not self.tenant:
            problems.append(FieldProblem("tenant", "your tenant id or domain (or organizations)"))
        for name, url in (("authority_host", self.authority_host), ("graph_url", self.graph_url)):
            if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
                problems.append(FieldProblem(name, "an https:// address"))
        if not self.folder:
            problems.append(FieldProblem("folder", "choose the folder to watch (usually inbox)"))
        if self.processed not in PROCESSED_MODES:
            problems.append(FieldProblem("processed", "choose flag or move"))
        elif self.processed == "move" and (
            not self.processed_folder or self.processed_folder.lower() in ("deleteditems", "deleted items")
        ):
            problems.append(
                FieldProblem(
                    "processed_folder", "choose the folder processed mail is moved to (never deleted items)"
                )
            )
        elif self.processed == "flag" and not self.processed_category.strip():
            problems.append(
                FieldProblem("processed_category", "enter the Outlook category for processed mail")
            )
        if not 0 <= self.first_sync_days <= 3650:
            problems.append(FieldProblem("first_sync_days", "a number of days from 0 to 3650"))
        if self.ca_file and not os.path.isfile(self.ca_file):
            problems.append(FieldProblem("ca_file", f"{self.ca_file} is not a file"))
        return problems


Account = ImapAccount | SmtpAccount | GraphAccount
_CLASSES: dict[str, type[ImapAccount] | type[SmtpAccount] | type[GraphAccount]] = {
    "imap": ImapAccount,
    "smtp": SmtpAccount,
    "graph": GraphAccount,
}


def _name_problems(name: str) -> list[FieldProblem]:
    if _NAME.fullmatch(name):
        return []
    return [
        FieldProblem(
            "name", "1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit"
        )
    ]


def account_to_json(account: Account) -> dict[str, Any]:
    """The stored form of an account (``kind`` plus every field)."""
    return {"kind": account.kind, **dataclasses.asdict(account)}


def account_from_json(data: Mapping[str, Any]) -> Account:
    """An account from its stored form; unknown fields are ignored, missing ones take defaults."""
    kind = data.get("kind")
    cls = _CLASSES.get(str(kind))
    if cls is None:
        raise ConfigurationError(f"unknown mail account kind {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise ConfigurationError(f"mail account {data.get('name')!r} is incomplete: {exc}") from exc


def is_sender(account: Account) -> bool:
    """Whether replies go out through this account."""
    return isinstance(account, SmtpAccount) or (isinstance(account, GraphAccount) and account.send)


# --- the book of accounts ----------------------------------------------------------------------


class SectionStore(Protocol):
    """Where the accounts section is kept (:class:`engine.settings_store.SettingsStore`)."""

    def section(self, key: str) -> Any:
        """The section's JSON, or None."""
        ...

    def save_section(self, key: str, value: Any, *, actor: str | None) -> None:
        """Store the section (audited)."""
        ...


def book_problems(accounts: Iterable[Account]) -> list[FieldProblem]:
    """Problems across accounts: duplicate names, dangling references, more than one sender."""
    accounts = list(accounts)
    by_name: dict[str, Account] = {}
    problems: list[FieldProblem] = []
    for account in accounts:
        if account.name in by_name:
            problems.append(FieldProblem("name", f"there is already an account called {account.name!r}"))
        by_name[account.name] = account
    for account in accounts:
        if not isinstance(account, SmtpAccount):
            continue
        for field_name in ("sent_account", "login_from"):
            ref = getattr(account, field_name)
            if ref and not isinstance(by_name.get(ref), ImapAccount):
                problems.append(FieldProblem(field_name, f"{ref!r} is not an IMAP account; add it first"))
    senders = [a.name for a in accounts if is_sender(a)]
    if len(senders) > 1:
        problems.append(
            FieldProblem(
                "send",
                f"more than one account sends replies ({', '.join(senders)}); keep one "
                "(remove an SMTP account, or add the Microsoft 365 account with --no-send)",
            )
        )
    return problems


@dataclass
class AccountBook:
    """The profile's mail accounts: list, add, replace, remove; secrets in the keyring."""

    store: SectionStore
    secrets: SecretStore | None = None

    def accounts(self) -> list[Account]:
        """Every configured account, in the order they were added."""
        raw = self.store.section(SECTION)
        items = raw.get("accounts", []) if isinstance(raw, dict) else []
        return [account_from_json(item) for item in items if isinstance(item, dict)]

    def get(self, name: str) -> Account:
        """The account called ``name``."""
        for account in self.accounts():
            if account.name == name:
                return account
        known = ", ".join(a.name for a in self.accounts()) or "none yet"
        raise ConfigurationError(f"there is no mail account called {name!r} (accounts: {known})")

    def add(
        self,
        account: Account,
        *,
        secrets: Mapping[str, str] | None = None,
        actor: str | None = None,
        replace: bool = False,
    ) -> None:
        """Validate and store ``account`` (replacing one of the same name when ``replace``), then its secrets.

        ``secrets`` maps a purpose (:data:`PASSWORD`, :data:`OAUTH_CLIENT_SECRET`...) to its value.
        """
        current = self.accounts()
        if not replace and any(a.name == account.name for a in current):
            raise AccountConfigError(
                [FieldProblem("name", f"there is already an account called {account.name!r} (use --replace)")]
            )
        updated = [a for a in current if a.name != account.name] + [account]
        problems = account.validate() + book_problems(updated)
        if problems:
            raise AccountConfigError(problems)
        if secrets:
            for purpose, value in secrets.items():
                self.set_secret(account.name, purpose, value)
        self._save(updated, actor)

    def remove(self, name: str, *, actor: str | None = None) -> Account:
        """Remove an account and forget its secrets; refused while an SMTP account refers to it."""
        account = self.get(name)
        users = [
            a.name
            for a in self.accounts()
            if isinstance(a, SmtpAccount) and name in (a.sent_account, a.login_from)
        ]
        if users:
            raise ConfigurationError(f"{name!r} is used by {', '.join(users)}; remove that account first")
        self._save([a for a in self.accounts() if a.name != name], actor)
        if self.secrets is not None:
            for purpose in (PASSWORD, OAUTH_TOKENS, OAUTH_CLIENT_SECRET, MSAL_CACHE):
                try:
                    self.secrets.delete(secret_name(name, purpose))
                except SecretStoreUnavailableError:
                    break
        return account

    def set_secret(self, name: str, purpose: str, value: str) -> None:
        """Store one of an account's secrets in the keyring."""
        if self.secrets is None:
            raise ConfigurationError("no secret store is available to keep the password")
        self.secrets.set(secret_name(name, purpose), value)

    def has_secret(self, name: str, purpose: str) -> bool:
        """Whether the keyring holds that secret (False when there is no keyring)."""
        if self.secrets is None:
            return False
        try:
            return bool(self.secrets.get(secret_name(name, purpose)))
        except SecretStoreUnavailableError:
            return False

    def _save(self, accounts: list[Account], actor: str | None) -> None:
        self.store.save_section(
            SECTION,
            {"version": SECTION_VERSION, "accounts": [account_to_json(a) for a in accounts]},
            actor=actor,
        )


def secret_purposes(account: Account) -> tuple[str, ...]:
    """The secrets an account uses (for ``accounts list``: present or not, never their values)."""
    if isinstance(account, GraphAccount):
        return (MSAL_CACHE,)
    if isinstance(account, SmtpAccount) and account.login_from:
        return ()
    if account.auth == "xoauth2":
        return (OAUTH_TOKENS, OAUTH_CLIENT_SECRET)
    return (PASSWORD,)


# --- building the connectors -------------------------------------------------------------------


def egress_hosts(accounts: Iterable[Account]) -> set[str]:
    """Hosts the accounts' HTTP calls may reach (Graph, Microsoft sign-in, Google sign-in)."""
    hosts: set[str] = set()
    for account in accounts:
        if isinstance(account, GraphAccount):
            hosts.update(_host(u) for u in (account.authority_host, account.graph_url))
        elif account.auth == "xoauth2" and not (isinstance(account, SmtpAccount) and account.login_from):
            hosts.update(_host(u) for u in (account.oauth_auth_uri, account.oauth_token_uri))
    hosts.discard("")
    return hosts


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@dataclass
class Toolkit:
    """What building connectors needs from the composition root."""

    secrets: SecretStore
    http: HttpClientFactory
    status: StatusCallback | None = None
    backoff: Backoff = field(default_factory=Backoff)


def _secret_getter(secrets: SecretStore, account: str, purpose: str) -> Callable[[], str]:
    def read() -> str:
        try:
            value = secrets.get(secret_name(account, purpose))
        except SecretStoreUnavailableError as exc:
            raise MissingSecretError(f"{account}: {exc}") from exc
        if not value:
            raise MissingSecretError(
                f"{account}: no {purpose.replace('-', ' ')} is stored in the keyring; add the account again "
                f"with --{purpose}-stdin --replace"
            )
        return value

    return read


def login_for(
    account: ImapAccount | SmtpAccount, accounts: Mapping[str, Account], kit: Toolkit
) -> Login | None:
    """The account's login: its own password/token, or (SMTP ``login_from``) the IMAP account's."""
    if isinstance(account, SmtpAccount) and account.login_from:
        source = accounts[account.login_from]
        assert isinstance(source, ImapAccount)
        return login_for(source, accounts, kit)
    if not account.username:
        return None
    if account.auth == "xoauth2":
        return OAuth2Login(account.username, google_oauth(account, kit).token)
    return PasswordLogin(account.username, _secret_getter(kit.secrets, account.name, PASSWORD))


def google_oauth(account: ImapAccount | SmtpAccount, kit: Toolkit) -> GoogleOAuth:
    """The Google sign-in of an XOAUTH2 account."""
    return GoogleOAuth(
        GoogleOAuthClient(
            account.oauth_client_id, auth_uri=account.oauth_auth_uri, token_uri=account.oauth_token_uri
        ),
        secrets=kit.secrets,
        token_name=secret_name(account.name, OAUTH_TOKENS),
        client_secret_name=secret_name(account.name, OAUTH_CLIENT_SECRET),
        http=kit.http,
        verify=account.ca_file or True,
    )


def graph_auth(account: GraphAccount, kit: Toolkit) -> GraphAuth:
    """The msal sign-in of a Microsoft 365 account."""
    return GraphAuth(
        client_id=account.client_id,
        tenant=account.tenant,
        authority_host=account.authority_host,
        secrets=kit.secrets,
        cache_name=secret_name(account.name, MSAL_CACHE),
        http=kit.http,
        login_hint=account.mailbox,
        verify=account.ca_file or True,
    )


@dataclass
class MailConnections:
    """The connectors built from the accounts: sources by account name, and the sender if any."""

    sources: dict[str, MailSource] = field(default_factory=dict)
    sender: MailSender | None = None
    sessions: dict[str, ImapSession] = field(default_factory=dict)
    graph_clients: list[GraphClient] = field(default_factory=list)

    def close(self) -> None:
        """Close every connection (sources are closed by the engine's service too; closing twice is fine)."""
        for session in self.sessions.values():
            session.close()
        for client in self.graph_clients:
            client.close()


def build_mail_connections(accounts: Iterable[Account], kit: Toolkit) -> MailConnections:
    """Sources and the sender for the configured accounts (no network until first used)."""
    accounts = list(accounts)
    problems = book_problems(accounts)
    if problems:
        raise AccountConfigError(problems)
    by_name = {a.name: a for a in accounts}
    built = MailConnections()
    for account in accounts:
        if isinstance(account, ImapAccount):
            session = _session(account, by_name, kit)
            built.sessions[account.name] = session
            built.sources[account.name] = ImapSource(
                session,
                folder=account.folder,
                processed=ProcessedAction(
                    account.processed, account.processed_keyword, account.processed_folder
                ),
                first_sync_days=account.first_sync_days,
            )
        elif isinstance(account, GraphAccount):
            client = _graph_client(account, kit)
            built.graph_clients.append(client)
            built.sources[account.name] = GraphSource(
                client,
                account=account.name,
                folder=account.folder,
                processed=GraphProcessed(
                    account.processed, account.processed_category, account.processed_folder
                ),
                first_sync_days=account.first_sync_days,
            )
            if account.send:
                built.sender = GraphSender(client)
    for account in accounts:
        if isinstance(account, SmtpAccount):
            built.sender = SmtpSender(
                account.endpoint(),
                login_for(account, by_name, kit),
                SentFolder(built.sessions[account.sent_account], account.sent_folder),
                sent_copy=account.sent_copy,
            )
    return built


def _session(account: ImapAccount, by_name: Mapping[str, Account], kit: Toolkit) -> ImapSession:
    login = login_for(account, by_name, kit)
    assert login is not None
    return ImapSession(
        account.endpoint(), login, account=account.name, backoff=kit.backoff, status=kit.status
    )


def _graph_client(account: GraphAccount, kit: Toolkit) -> GraphClient:
    auth = graph_auth(account, kit)
    return GraphClient(
        token=auth.token, http=kit.http, base_url=account.graph_url, verify=account.ca_file or True
    )


def idle_watchers(
    accounts: Iterable[Account], kit: Toolkit, on_new_mail: Callable[[str], None]
) -> list[IdleWatcher]:
    """One (not yet started) IDLE watcher per IMAP account with ``idle`` on."""
    accounts = list(accounts)
    by_name = {a.name: a for a in accounts}
    watchers = []
    for account in accounts:
        if isinstance(account, ImapAccount) and account.idle:
            login = login_for(account, by_name, kit)
            assert login is not None
            watchers.append(
                IdleWatcher(
                    account.endpoint(),
                    login,
                    account=account.name,
                    folder=account.folder,
                    on_new_mail=on_new_mail,
                    status=kit.status,
                    backoff=kit.backoff,
                )
            )
    return watchers


def http_factory(accounts: Iterable[Account], observer: Any = None) -> HttpClientFactory:
    """A client factory whose allow-list holds exactly the accounts' HTTP hosts."""
    return HttpClientFactory(EgressPolicy(egress_hosts(accounts)), observer)


# --- "Test connection" and signing in ------------------------------------------------------------


def test_connection(name: str, book: AccountBook, kit: Toolkit) -> ConnectionTestResult:
    """Try the account stage by stage (dns, tcp, tls, login, folder) and say what failed."""
    accounts = book.accounts()
    by_name = {a.name: a for a in accounts}
    account = book.get(name)
    if isinstance(account, GraphAccount):
        return _test_graph(account, kit)
    try:
        login = login_for(account, by_name, kit)
    except ConnectorError as exc:
        return _failed(account, "login", str(exc))
    if isinstance(account, ImapAccount):
        assert login is not None
        other = [account.processed_folder] if account.processed == "move" else []
        return diagnose_imap(
            account.endpoint(), login, account=account.name, folder=account.folder, other_folders=other
        )
    sent_account = by_name[account.sent_account]
    assert isinstance(sent_account, ImapAccount)
    session = _session(sent_account, by_name, Toolkit(kit.secrets, kit.http, None, Backoff(max_attempts=1)))
    try:
        return diagnose_smtp(
            account.endpoint(), login, account=account.name, sent=SentFolder(session, account.sent_folder)
        )
    finally:
        session.close()


test_connection.__test__ = False  # type: ignore[attr-defined]  # a product function, not a pytest test


def _failed(account: Account, stage: str, message: str) -> ConnectionTestResult:
    recorder = StageRecorder()
    recorder.record(stage, False, message, time.perf_counter())
    host, port = ("", 0) if isinstance(account, GraphAccount) else (account.host, account.effective_port)
    return ConnectionTestResult(account.name, account.kind, host, port, tuple(recorder.stages))


def _test_graph(account: GraphAccount, kit: Toolkit) -> ConnectionTestResult:
    """dns and tcp for Graph's host, ``login`` (a token from the keyring's sign-in), ``folder``."""
    url = urlsplit(account.graph_url)
    endpoint = Endpoint(url.hostname or "", url.port or 443, "tls")
    recorder = StageRecorder()
    check_dns_and_tcp(endpoint, recorder)
    if recorder.failed():
        return ConnectionTestResult(
            account.name, "graph", endpoint.host, endpoint.port, tuple(recorder.stages)
        )
    auth = graph_auth(account, kit)
    client = GraphClient(
        token=auth.token, http=kit.http, base_url=account.graph_url, verify=account.ca_file or True
    )
    try:
        started = time.perf_counter()
        try:
            auth.token()
            who = auth.account_name() or "signed in"
        except ConnectorError as exc:
            recorder.record("tls" if isinstance(exc, TlsError) else "login", False, str(exc), started)
        else:
            recorder.record("login", True, f"signed in as {who}", started)
            started = time.perf_counter()
            try:
                folder = client.get_json(
                    f"/me/mailFolders/{account.folder}", params={"$select": "displayName,totalItemCount"}
                )
            except ConnectorError as exc:
                stage = "tls" if isinstance(exc, TlsError) else "folder"
                recorder.record(stage, False, f"folder {account.folder!r}: {exc}", started)
            else:
                name, count = folder.get("displayName", account.folder), folder.get("totalItemCount", "?")
                recorder.record("folder", True, f"opened {name} ({count} messages)", started)
    finally:
        client.close()
        auth.close()
    return ConnectionTestResult(account.name, "graph", endpoint.host, endpoint.port, tuple(recorder.stages))


def sign_in(
    name: str,
    book: AccountBook,
    kit: Toolkit,
    *,
    show_device_code: Callable[[DeviceCode], None] | None = None,
    open_browser: Callable[[str], object] | None = None,
) -> str:
    """Sign an OAuth account in: Microsoft 365 by device code (or browser), Google in the browser."""
    account = book.get(name)
    if isinstance(account, GraphAccount):
        auth = graph_auth(account, kit)
        try:
            if show_device_code is not None:
                return auth.sign_in_device_code(show_device_code)
            return auth.sign_in_browser()
        finally:
            auth.close()
    if account.auth != "xoauth2" or (isinstance(account, SmtpAccount) and account.login_from):
        raise ConfigurationError(f"{name!r} logs in with a password; there is nothing to sign in to")
    oauth = google_oauth(account, kit)
    if open_browser is not None:
        oauth.sign_in_browser(open_browser=open_browser, login_hint=account.username)
    else:
        oauth.sign_in_browser(login_hint=account.username)
    return account.username
