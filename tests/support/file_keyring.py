"""A keyring backend in a JSON file, shared by a test and the app processes it starts.

For tests and benchmarks only (a headless box has no OS keyring, and a child process cannot see
the in-memory one). Install it with :func:`use_file_keyring` (or set :func:`file_keyring_env` with a test's
monkeypatch and call ``keyring.set_keyring``); child processes inherit the environment, and
keyring reads ``PYTHON_KEYRING_BACKEND`` there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors

#: Environment variable naming the JSON file.
FILE_VARIABLE = "INBOX_TRIAGE_TEST_KEYRING"


class FileKeyring(keyring.backend.KeyringBackend):
    """Passwords in the JSON file named by ``$INBOX_TRIAGE_TEST_KEYRING`` (test use only)."""

    priority = 1.0

    def _path(self) -> Path:
        value = os.environ.get(FILE_VARIABLE)
        if not value:
            raise keyring.errors.KeyringError(f"{FILE_VARIABLE} is not set")
        return Path(value)

    def _load(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored password, or None."""
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store (or replace) a password."""
        data = self._load()
        data[f"{service}\x00{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        """Delete a password; raise PasswordDeleteError when it does not exist."""
        data = self._load()
        if data.pop(f"{service}\x00{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(f"no password for {username!r} in {service!r}")
        self._path().write_text(json.dumps(data))


def file_keyring_env(path: Path) -> dict[str, str]:
    """The environment variables that make a process (and its children) use the file at ``path``."""
    return {FILE_VARIABLE: str(path), "PYTHON_KEYRING_BACKEND": f"{__name__}.{FileKeyring.__name__}"}


def use_file_keyring(path: Path) -> None:
    """Use the file keyring at ``path`` in this process and in the processes it starts."""
    os.environ.update(file_keyring_env(path))
    keyring.set_keyring(FileKeyring())  # type: ignore[no-untyped-call]
