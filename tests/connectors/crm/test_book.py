"""The CRM book: one connected CRM, its token in the keyring, connect/disconnect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.crm.book import SECTION, CrmBook
from connectors.crm.settings import CrmSettings
from connectors.secrets import KeyringSecretStore
from engine.errors import ConfigurationError, SecretStoreUnavailableError
from engine.settings_store import SettingsStore
from engine.storage import migrate
from engine.storage.db import Database, sqlite_url
from tests.support_http.secrets import DictSecrets


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(tmp_path / "crm.db"))
    migrate.upgrade(database)
    yield database
    database.dispose()


def test_connect_stores_settings_and_token_apart(db: Database) -> None:
    secrets = DictSecrets()
    book = CrmBook(SettingsStore(db), secrets)
    assert book.current() is None and not book.has_secret()
    book.connect(CrmSettings(kind="hubspot"), secret="pat-1", actor="Alice")
    current = book.current()
    assert current is not None and (current.kind, current.base_url) == ("hubspot", "https://api.hubapi.com")
    assert "pat-1" not in repr(SettingsStore(db).section(SECTION))
    assert secrets.values == {"crm:hubspot": "pat-1"} and book.has_secret()


def test_switching_crm_forgets_the_old_token_and_disconnect_forgets_the_new(db: Database) -> None:
    secrets = DictSecrets()
    book = CrmBook(SettingsStore(db), secrets)
    book.connect(CrmSettings(kind="hubspot"), secret="pat-1")
    book.connect(CrmSettings(kind="webhook", base_url="https://hooks.example.com/x?a=1"), secret="whsec")
    assert secrets.values == {"crm:webhook": "whsec"}
    gone = book.disconnect()
    assert gone is not None and gone.kind == "webhook"
    assert book.current() is None and secrets.values == {}
    assert book.disconnect() is None


def test_invalid_settings_or_an_empty_token_store_nothing(db: Database) -> None:
    secrets = DictSecrets()
    book = CrmBook(SettingsStore(db), secrets)
    with pytest.raises(ConfigurationError, match="webhook URL must start with https://"):
        book.connect(CrmSettings(kind="webhook", base_url="hooks.example.com"), secret="s")
    with pytest.raises(ConfigurationError, match="token is empty"):
        book.connect(CrmSettings(kind="pipedrive"), secret="")
    assert book.current() is None and secrets.values == {}


def test_without_a_keyring_nothing_is_stored(db: Database, no_keyring: object) -> None:
    book = CrmBook(SettingsStore(db), KeyringSecretStore())
    with pytest.raises(SecretStoreUnavailableError, match="No secure keyring"):
        book.connect(CrmSettings(kind="pipedrive"), secret="pd-1")
    assert book.current() is None and not book.has_secret(CrmSettings(kind="pipedrive"))
