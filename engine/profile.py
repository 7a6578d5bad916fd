"""The profile folder: where one office user's database, outbox, model and logs live.

Chosen by ``--profile DIR``, else ``INBOX_TRIAGE_HOME``, else the platform's user data folder
(platformdirs). The database URL defaults to SQLite inside the profile; a shared PostgreSQL
database is named in ``profile.json`` (``{"database_url": "postgresql+psycopg://..."}``) or by
``INBOX_TRIAGE_DATABASE_URL``.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ConfigurationError

APP_NAME = "Inbox Triage"
ENV_HOME = "INBOX_TRIAGE_HOME"
ENV_DATABASE_URL = "INBOX_TRIAGE_DATABASE_URL"
DATABASE_FILE = "inbox-triage.db"
PROFILE_FILE = "profile.json"


def default_profile_dir() -> Path:
    """The platform's per-user data folder for the app."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_profile_dir(explicit: str | os.PathLike[str] | None) -> Path:
    """The profile folder from ``--profile``, the environment, or the platform default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    return default_profile_dir()


@dataclass(frozen=True)
class Profile:
    """Paths inside one profile folder."""

    root: Path

    @property
    def database_file(self) -> Path:
        """The SQLite database file (when SQLite is used)."""
        return self.root / DATABASE_FILE

    @property
    def outbox_dir(self) -> Path:
        """Where the local outbox sender writes replies in demo mode."""
        return self.root / "outbox"

    @property
    def model_dir(self) -> Path:
        """Where the trained local classifier is cached."""
        return self.root / "model"

    @property
    def log_dir(self) -> Path:
        """Where log files are written."""
        return self.root / "logs"

    @property
    def exports_dir(self) -> Path:
        """Default folder for audit exports."""
        return self.root / "exports"

    def ensure(self) -> None:
        """Create the folder tree (private to the user where the OS allows)."""
        for path in (self.root, self.outbox_dir, self.model_dir, self.log_dir, self.exports_dir):
            path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # e.g. a shared folder on Windows
            os.chmod(self.root, 0o700)

    def config(self) -> dict[str, object]:
        """The contents of ``profile.json`` (empty when absent)."""
        path = self.root / PROFILE_FILE
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path} must contain a JSON object")
        return data

    def write_config(self, data: dict[str, object]) -> None:
        """Replace ``profile.json``."""
        path = self.root / PROFILE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    def database_url(self) -> str:
        """The database URL: environment, then profile.json, then SQLite in the profile."""
        env = os.environ.get(ENV_DATABASE_URL)
        if env:
            return env
        configured = self.config().get("database_url")
        if configured is not None:
            if not isinstance(configured, str) or not configured.strip():
                raise ConfigurationError("profile.json: database_url must be a non-empty string")
            return configured
        return f"sqlite+pysqlite:///{self.database_file}"
