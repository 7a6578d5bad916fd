"""Mail accounts: validation messages, the account book, secrets, building connectors, "Test connection"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.accounts import (
    OAUTH_CLIENT_SECRET,
    PASSWORD,
    SECTION,
    Account,
    AccountBook,
    AccountConfigError,
    GraphAccount,
    ImapAccount,
    MissingSecretError,
    SmtpAccount,
    Toolkit,
    build_mail_connections,
    egress_hosts,
    http_factory,
    idle_watchers,
    secret_name,
    sign_in,
    test_connection,
)
from connectors.graph.sender import GraphSender
from connectors.http import EgressPolicy, HttpClientFactory
from connectors.imap.session import Backoff
from connectors.imap.source import ImapSource
from connectors.smtp import SmtpSender
from engine.errors import ConfigurationError
from engine.ingest import ingest_source
from engine.settings_store import SettingsStore
from engine.storage.db import Database
from tests.connectors.graph.fake_graph import CLIENT_ID, TENANT, FakeMicrosoft, fake_microsoft
from tests.connectors.graph.helpers import DictSecrets
from tests.connectors.imap.helpers import ImapHarness, engine_db, imap, message
from tests.servers.dovecot import DovecotMailbox
from tests.servers.smtp import SmtpServer

__all__ = ["engine_db", "fake_microsoft", "imap"]  # fixtures used here


@pytest.fixture
def book(engine_db: Database) -> AccountBook:
    return AccountBook(SettingsStore(engine_db), DictSecrets())


def _imap(dovecot: DovecotMailbox, name: str = "office", **changes: object) -> ImapAccount:
    fields: dict[str, object] = {
        "name": name,
        "host": dovecot.host,
        "port": dovecot.imaps_port,
        "username": dovecot.user,
        "ca_file": str(dovecot.ca_file),
    }
    fields.update(changes)
    return ImapAccount(**fields)  # type: ignore[arg-type]


def _smtp(server: SmtpServer, **changes: object) -> SmtpAccount:
    fields: dict[str, object] = {
        "name": "outgoing",
        "host": server.host,
        "port": server.port,
        "security": "starttls",
        "username": "test",
        "ca_file": str(server.ca_file),
        "sent_account": "office",
    }
    fields.update(changes)
    return SmtpAccount(**fields)  # type: ignore[arg-type]


def _graph(fake: FakeMicrosoft, **changes: object) -> GraphAccount:
    fields: dict[str, object] = {
        "name": "m365",
        "client_id": CLIENT_ID,
        "tenant": TENANT,
        "authority_host": fake.origin,
        "graph_url": fake.graph_url,
        "ca_file": str(fake.ca_file),
    }
    fields.update(changes)
    return GraphAccount(**fields)  # type: ignore[arg-type]


def _kit(book: AccountBook, http: HttpClientFactory | None = None) -> Toolkit:
    assert book.secrets is not None
    return Toolkit(book.secrets, http or http_factory(book.accounts()), backoff=Backoff(max_attempts=1))


# --- validation ----------------------------------------------------------------------------------


def test_a_good_imap_account_has_no_problems() -> None:
    assert ImapAccount("office", "imap.example.co.uk", "jo@example.co.uk").validate() == []
    assert ImapAccount("office", "imap.example.co.uk", "jo").effective_port == 993
    assert ImapAccount("office", "imap.example.co.uk", "jo", security="starttls").effective_port == 143


@pytest.mark.parametrize(
    ("changes", "field", "phrase"),
    [
        ({"name": "my account"}, "name", "letters, digits"),
        ({"host": "https://imap.example.co.uk"}, "host", "server's name"),
        ({"host": ""}, "host", "server's name"),
        ({"port": 70000}, "port", "65535"),
        ({"security": "none"}, "security", "only allowed to this computer"),
        ({"security": "ssl"}, "security", "choose one of: tls, starttls, none"),
        ({"username": ""}, "username", "login name"),
        ({"auth": "xoauth2"}, "oauth_client_id", "OAuth client id"),
        ({"ca_file": "/no/such/ca.pem"}, "ca_file", "is not a file"),
        ({"processed": "move"}, "processed_folder", "moved to"),
        ({"processed_keyword": "two words"}, "processed_keyword", "$Triaged"),
        ({"first_sync_days": -1}, "first_sync_days", "0 to 3650"),
    ],
)
def test_imap_validation_says_what_to_fix(changes: dict[str, object], field: str, phrase: str) -> None:
    fields: dict[str, object] = {"name": "office", "host": "imap.example.co.uk", "username": "jo"}
    fields.update(changes)
    problems = ImapAccount(**fields).validate()  # type: ignore[arg-type]
    assert [p.field for p in problems] == [field]
    assert phrase in problems[0].message


def test_plain_imap_on_loopback_is_allowed() -> None:
    assert ImapAccount("local", "127.0.0.1", "jo", security="none").validate() == []


def test_smtp_needs_a_sent_folder_account() -> None:
    problems = SmtpAccount("out", "smtp.example.co.uk", sent_account="").validate()
    assert [p.field for p in problems] == ["sent_account"]
    assert "never goes out twice" in problems[0].message
    assert SmtpAccount("out", "smtp.example.co.uk", sent_account="office").effective_port == 587
    oauth = SmtpAccount("out", "smtp.gmail.com", sent_account="gmail", auth="xoauth2", oauth_client_id="id")
    assert [p.field for p in oauth.validate()] == ["username"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_id": "not-a-guid"}, "client_id"),
        ({"graph_url": "http://graph.example"}, "graph_url"),
        ({"processed": "move", "processed_folder": "deleteditems"}, "processed_folder"),
        ({"tenant": ""}, "tenant"),
    ],
)
def test_graph_validation(changes: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"name": "m365", "client_id": CLIENT_ID}
    fields.update(changes)
    assert [p.field for p in GraphAccount(**fields).validate()] == [field]  # type: ignore[arg-type]


# --- the book ------------------------------------------------------------------------------------


def test_accounts_are_stored_without_secrets_and_secrets_in_the_keyring(
    book: AccountBook, tmp_path: Path
) -> None:
    office = ImapAccount("office", "imap.example.co.uk", "jo@example.co.uk")
    book.add(office, secrets={PASSWORD: "hunter2-secret"}, actor="Alice")
    assert book.accounts() == [office]
    assert book.get("office") == office
    stored = json.dumps(book.store.section(SECTION))
    assert "hunter2-secret" not in stored
    assert book.secrets is not None
    assert book.secrets.get(secret_name("office", PASSWORD)) == "hunter2-secret"
    assert book.has_secret("office", PASSWORD)


def test_adding_twice_needs_replace(book: AccountBook) -> None:
    book.add(ImapAccount("office", "imap.example.co.uk", "jo"))
    with pytest.raises(AccountConfigError, match="--replace"):
        book.add(ImapAccount("office", "imap.other.example", "jo"))
    book.add(ImapAccount("office", "imap.other.example", "jo"), replace=True)
    assert [a.host for a in book.accounts() if isinstance(a, ImapAccount)] == ["imap.other.example"]


def test_book_level_problems(book: AccountBook) -> None:
    with pytest.raises(AccountConfigError, match="'office' is not an IMAP account"):
        book.add(SmtpAccount("out", "smtp.example.co.uk", sent_account="office"))
    book.add(ImapAccount("office", "imap.example.co.uk", "jo"))
    book.add(SmtpAccount("out", "smtp.example.co.uk", sent_account="office"))
    with pytest.raises(AccountConfigError, match="more than one account sends replies") as caught:
        book.add(GraphAccount("m365", CLIENT_ID))
    assert caught.value.problems[0].field == "send"
    book.add(GraphAccount("m365", CLIENT_ID, send=False))
    with pytest.raises(ConfigurationError, match="used by out"):
        book.remove("office")


def test_remove_forgets_the_secrets(book: AccountBook) -> None:
    book.add(ImapAccount("office", "imap.example.co.uk", "jo"), secrets={PASSWORD: "pw"})
    book.remove("office")
    assert book.accounts() == []
    assert not book.has_secret("office", PASSWORD)
    with pytest.raises(ConfigurationError, match="no mail account called 'office'"):
        book.get("office")


def test_changes_are_audited(book: AccountBook, engine_db: Database) -> None:
    from engine.queries import AuditFilter, Queries

    book.add(ImapAccount("office", "imap.example.co.uk", "jo"), actor="Alice")
    events = Queries(engine_db).audit_events(AuditFilter(actions=("settings.changed",)))
    assert events[0].detail == {"section": SECTION}


def test_egress_hosts_come_from_the_accounts() -> None:
    accounts: list[Account] = [
        ImapAccount("office", "imap.example.co.uk", "jo"),
        ImapAccount("gmail", "imap.gmail.com", "jo@gmail.com", auth="xoauth2", oauth_client_id="id"),
        GraphAccount("m365", CLIENT_ID, send=False),
    ]
    assert egress_hosts(accounts) == {
        "accounts.google.com",
        "oauth2.googleapis.com",
        "login.microsoftonline.com",
        "graph.microsoft.com",
    }


# --- building and testing against real servers -----------------------------------------------------


def test_built_connectors_fetch_and_send(
    book: AccountBook, imap: ImapHarness, smtp_starttls_server: SmtpServer, engine_db: Database
) -> None:
    book.add(_imap(imap.dovecot), secrets={PASSWORD: imap.dovecot.password})
    book.add(_smtp(smtp_starttls_server, login_from=""), secrets={PASSWORD: "testpass"})
    imap.dovecot.append(imap.dovecot.user, "INBOX", message(1))
    built = build_mail_connections(book.accounts(), _kit(book))
    try:
        source = built.sources["office"]
        assert isinstance(source, ImapSource)
        assert ingest_source(engine_db, source).new_runs == 1
        assert isinstance(built.sender, SmtpSender)
        assert built.sender.sent.session is built.sessions["office"]  # the Sent folder shares the connection
        from tests.connectors.smtp.helpers import reply_to

        built.sender.send(reply_to(1))
        assert len(smtp_starttls_server.wait_for(1)) == 1
    finally:
        built.close()


def test_a_missing_password_is_a_clear_permanent_error(
    book: AccountBook, imap: ImapHarness, engine_db: Database
) -> None:
    book.add(_imap(imap.dovecot))
    built = build_mail_connections(book.accounts(), _kit(book))
    try:
        with pytest.raises(MissingSecretError, match="no password is stored"):
            ingest_source(engine_db, built.sources["office"])
    finally:
        built.close()


def test_idle_watchers_for_idle_accounts(book: AccountBook, imap: ImapHarness) -> None:
    book.add(_imap(imap.dovecot), secrets={PASSWORD: imap.dovecot.password})
    book.add(_imap(imap.dovecot, name="archive", idle=False), secrets={PASSWORD: imap.dovecot.password})
    watchers = idle_watchers(book.accounts(), _kit(book), on_new_mail=lambda _account: None)
    assert [w.account for w in watchers] == ["office"]


def test_connection_test_of_imap_accounts(book: AccountBook, imap: ImapHarness) -> None:
    book.add(_imap(imap.dovecot), secrets={PASSWORD: imap.dovecot.password})
    book.add(_imap(imap.dovecot, name="wrong"), secrets={PASSWORD: "nope"})
    book.add(
        _imap(imap.dovecot, name="moving", processed="move", processed_folder="Done"),
        secrets={PASSWORD: imap.dovecot.password},
    )
    ok = test_connection("office", book, _kit(book))
    assert ok.ok, ok.message
    wrong = test_connection("wrong", book, _kit(book))
    assert wrong.failed_stage == "login"
    moving = test_connection("moving", book, _kit(book))
    assert moving.failed_stage == "folder"  # the processed-mail folder does not exist yet
    assert "Done" in moving.message


def test_connection_test_of_an_smtp_account(
    book: AccountBook, imap: ImapHarness, smtp_starttls_server: SmtpServer
) -> None:
    book.add(_imap(imap.dovecot), secrets={PASSWORD: imap.dovecot.password})
    book.add(_smtp(smtp_starttls_server), secrets={PASSWORD: "testpass"})
    result = test_connection("outgoing", book, _kit(book))
    assert result.ok, result.message
    assert [s.stage for s in result.stages] == ["dns", "tcp", "tls", "login", "folder"]
    book.add(_smtp(smtp_starttls_server), secrets={PASSWORD: "bad"}, replace=True)
    assert test_connection("outgoing", book, _kit(book)).failed_stage == "login"


def test_microsoft_365_account_signs_in_tests_and_builds(
    book: AccountBook, fake_microsoft: FakeMicrosoft
) -> None:
    book.add(_graph(fake_microsoft))
    kit = _kit(book)
    assert kit.http.policy.hosts == frozenset({"127.0.0.1"})
    before = test_connection("m365", book, kit)
    assert before.failed_stage == "login"
    assert "nobody is signed in" in before.message
    codes: list[object] = []
    assert sign_in("m365", book, kit, show_device_code=codes.append) == "office@print.example"
    assert codes
    result = test_connection("m365", book, kit)
    assert result.ok, result.message
    built = build_mail_connections(book.accounts(), kit)
    try:
        assert isinstance(built.sender, GraphSender)
        assert list(built.sources) == ["m365"]
    finally:
        built.close()


def test_password_accounts_cannot_sign_in(book: AccountBook) -> None:
    book.add(ImapAccount("office", "imap.example.co.uk", "jo"))
    kit = Toolkit(DictSecrets(), HttpClientFactory(EgressPolicy([])))
    with pytest.raises(ConfigurationError, match="nothing to sign in"):
        sign_in("office", book, kit)


def test_secret_purposes_listed(book: AccountBook) -> None:
    from connectors.accounts import secret_purposes

    assert secret_purposes(ImapAccount("a", "h", "u")) == (PASSWORD,)
    assert secret_purposes(ImapAccount("a", "h", "u", auth="xoauth2", oauth_client_id="x")) == (
        "oauth",
        OAUTH_CLIENT_SECRET,
    )
    assert secret_purposes(SmtpAccount("s", "h", sent_account="a", login_from="a")) == ()
