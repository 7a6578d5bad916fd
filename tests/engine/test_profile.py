"""Where a profile lives and which database it uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import ConfigurationError
from engine.profile import ENV_DATABASE_URL, ENV_HOME, Profile, default_profile_dir, resolve_profile_dir


def test_explicit_folder_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "env"))
    assert resolve_profile_dir(tmp_path / "cli") == (tmp_path / "cli").resolve()
    assert resolve_profile_dir(None) == (tmp_path / "env").resolve()


def test_default_is_the_platform_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_HOME, raising=False)
    assert resolve_profile_dir(None) == default_profile_dir()
    assert "Inbox Triage" in str(default_profile_dir())


def test_database_url_from_environment_then_profile_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = Profile(tmp_path)
    profile.ensure()
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    assert profile.database_url() == f"sqlite+pysqlite:///{tmp_path / 'inbox-triage.db'}"
    (tmp_path / "profile.json").write_text(json.dumps({"database_url": "postgresql+psycopg://db/office"}))
    assert profile.database_url() == "postgresql+psycopg://db/office"
    monkeypatch.setenv(ENV_DATABASE_URL, "postgresql+psycopg://other/x")
    assert profile.database_url() == "postgresql+psycopg://other/x"


def test_bad_profile_json_is_refused_with_the_file_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    (tmp_path / "profile.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"profile\.json"):
        Profile(tmp_path).database_url()
    (tmp_path / "profile.json").write_text(json.dumps({"database_url": ""}))
    with pytest.raises(ConfigurationError, match="database_url"):
        Profile(tmp_path).database_url()
