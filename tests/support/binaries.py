"""Find the server binaries tests need: skip outside CI when one is missing, fail under CI."""

from __future__ import annotations

import glob
import os
import shutil

import pytest


def running_in_ci() -> bool:
    """Return True when the suite runs under CI (`CI=true`), where missing servers are failures."""
    return os.environ.get("CI") == "true"


def find_binary(name: str, search_globs: tuple[str, ...] = ()) -> str | None:
    """Return the path of executable `name` on PATH or under `search_globs` (highest match), or None."""
    found = shutil.which(name)
    if found:
        return found
    candidates: list[str] = []
    for pattern in search_globs:
        candidates.extend(glob.glob(os.path.join(pattern, name)))
    executables = [path for path in candidates if os.access(path, os.X_OK)]
    if not executables:
        return None
    return max(executables, key=_version_key)


def requires_binary(name: str, apt_package: str | None = None, search_globs: tuple[str, ...] = ()) -> str:
    """Return the path of `name`; skip the test when it is missing (outside CI) or fail it (CI=true)."""
    path = find_binary(name, search_globs)
    if path is not None:
        return path
    message = f"{name} is not installed (apt-get install {apt_package or name})"
    if running_in_ci():
        pytest.fail(f"{message}; under CI=true server tests must run, not skip", pytrace=False)
    pytest.skip(message)


def _version_key(path: str) -> tuple[int, ...]:
    """Sort key: the numbers in a path, so /usr/lib/postgresql/16/bin beats .../15/bin."""
    digits = "".join(char if char.isdigit() else " " for char in path)
    return tuple(int(part) for part in digits.split())
