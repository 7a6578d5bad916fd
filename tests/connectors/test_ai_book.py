"""The provider book: stored section, chains, API keys in the keyring, validation before storing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.ai_book import SECTION, ProviderBook, moved
from connectors.secrets import KeyringSecretStore
from engine.ai.settings import ProviderSettings, with_defaults
from engine.errors import ConfigurationError, SecretStoreUnavailableError
from engine.settings_store import SettingsStore
from engine.storage import migrate
from engine.storage.db import Database, sqlite_url
from tests.support_http.secrets import DictSecrets


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(tmp_path / "book.db"))
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def book(db: Database) -> ProviderBook:
    return ProviderBook(SettingsStore(db), DictSecrets())


def openai(name: str = "gpt", **changes: object) -> ProviderSettings:
    return with_defaults("openai", name, **{"model": "gpt-4o-mini", **changes})


def test_add_stores_the_section_and_the_key_apart(book: ProviderBook, db: Database) -> None:
    book.add(openai(), api_key="sk-1", steps=("classify", "draft"), actor="Alice")
    raw = SettingsStore(db).section(SECTION)
    assert raw["providers"][0]["name"] == "gpt" and raw["classify_chain"] == ["gpt"]
    assert "sk-1" not in repr(raw)
    assert isinstance(book.secrets, DictSecrets)
    assert book.secrets.values == {"ai-provider:gpt": "sk-1"}
    assert book.has_api_key("gpt") and not book.has_api_key("other")
    assert book.steps_of("gpt") == ("classify", "draft")


def test_a_name_is_added_once_unless_replaced_and_keeps_its_place(book: ProviderBook) -> None:
    book.add(openai("a"), steps=("classify",))
    book.add(openai("b"), steps=("classify", "draft"))
    with pytest.raises(ConfigurationError, match="already an AI provider called 'a'"):
        book.add(openai("a"))
    book.add(openai("a", model="gpt-4.1", timeout_s=20.0), replace_existing=True, steps=("draft",))
    settings = book.settings()
    assert [p.name for p in settings.providers] == ["a", "b"]
    assert settings.provider("a").model == "gpt-4.1"
    assert settings.classify_chain == ("a", "b")
    assert settings.draft_chain == ("b", "a")


def test_invalid_settings_are_refused_and_nothing_is_stored(book: ProviderBook, db: Database) -> None:
    with pytest.raises(ConfigurationError, match="base URL must start with https://"):
        book.add(openai(base_url="ftp://x"), api_key="sk")
    with pytest.raises(ConfigurationError, match="timeout must be between 1 and 600"):
        book.add(openai(timeout_s=0.5))
    assert SettingsStore(db).section(SECTION) is None
    assert isinstance(book.secrets, DictSecrets) and book.secrets.values == {}


def test_chains_are_set_in_order_and_checked(book: ProviderBook) -> None:
    book.add(openai("a"))
    book.add(with_defaults("anthropic", "b", model="claude-sonnet-4-5"))
    assert book.set_chain("draft", ["b", "a"]).draft_chain == ("b", "a")
    assert book.move("draft", "a", -1).draft_chain == ("a", "b")
    assert book.move("draft", "a", -1).draft_chain == ("a", "b")  # already first
    with pytest.raises(ConfigurationError, match="no provider called 'zz'"):
        book.set_chain("classify", ["a", "zz"])
    with pytest.raises(ConfigurationError, match="once in the chain"):
        book.set_chain("classify", ["a", "a"])
    with pytest.raises(ConfigurationError, match="classify or draft"):
        book.set_chain("summarise", ["a"])
    assert book.set_chain("classify", []).classify_chain == ()


def test_remove_takes_it_out_of_every_chain_and_forgets_the_key(book: ProviderBook) -> None:
    book.add(openai("a"), api_key="k-a", steps=("classify", "draft"))
    book.add(openai("b"), api_key="k-b", steps=("classify",))
    book.remove("a")
    settings = book.settings()
    assert [p.name for p in settings.providers] == ["b"]
    assert (settings.classify_chain, settings.draft_chain) == (("b",), ())
    assert isinstance(book.secrets, DictSecrets) and book.secrets.values == {"ai-provider:b": "k-b"}
    with pytest.raises(ConfigurationError, match=r"no AI provider called 'a' \(providers: b\)"):
        book.remove("a")


def test_without_a_keyring_a_key_is_refused_and_nothing_is_stored(db: Database, no_keyring: object) -> None:
    book = ProviderBook(SettingsStore(db), KeyringSecretStore())
    with pytest.raises(SecretStoreUnavailableError, match="No secure keyring"):
        book.add(openai(), api_key="sk-1", steps=("classify",))
    assert book.settings().providers == ()
    assert not book.has_api_key("gpt")
    book.add(openai(needs_api_key=False, base_url="http://127.0.0.1:11434/v1"))
    book.remove("gpt")  # forgetting a key without a keyring is not an error


def test_moved_clamps_and_refuses_strangers() -> None:
    assert moved(("a", "b", "c"), "c", -1) == ("a", "c", "b")
    assert moved(("a", "b", "c"), "a", 5) == ("b", "c", "a")
    with pytest.raises(ConfigurationError):
        moved(("a",), "b", 1)
