"""packaging/requirements-lock.txt pins every run-time dependency and PyInstaller, once each, with hashes."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.packaging.conftest import PACKAGING, REPO

LOCK = PACKAGING / "requirements-lock.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>\S+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def _entries() -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker, hashes) for every pin in the lock."""
    entries: list[tuple[str, str, str | None, list[str]]] = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("--hash="):
            assert entries, "a hash before any pin"
            entries[-1][3].append(stripped.removeprefix("--hash=").rstrip(" \\"))
            continue
        match = PIN.match(stripped)
        assert match, f"not an exact pin: {line!r}"
        marker = match["marker"].strip() if match["marker"] else None
        entries.append((canonicalize_name(match["name"]), match["version"], marker, []))
    return entries


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [
        Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["packaging"]]
    ]


def test_every_pin_carries_sha256_hashes() -> None:
    entries = _entries()
    assert len(entries) > 30
    for name, _version, _marker, hashes in entries:
        assert hashes, f"{name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name


def test_every_direct_dependency_is_pinned_inside_its_range() -> None:
    pins: dict[str, list[tuple[str, str | None]]] = {}
    for name, version, marker, _hashes in _entries():
        pins.setdefault(name, []).append((version, marker))
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in the lock"
        # the release builds use Python 3.11: the pin for it must satisfy pyproject's range
        for version, marker in pins[name]:
            if marker is None or "3.12" not in marker or "<" in marker:
                assert Version(version) in requirement.specifier, f"{name}=={version} vs {requirement}"
    assert pins["pyside6-essentials"][0][0].startswith("6.11."), "PySide6 stays below 6.12 (refcount bug)"


def test_platform_only_packages_carry_markers() -> None:
    markers = {name: marker for name, _v, marker, _h in _entries()}
    assert markers["pywin32-ctypes"] == "sys_platform == 'win32'"
    assert markers["secretstorage"] == "sys_platform == 'linux'"
    assert markers["macholib"] == "sys_platform == 'darwin'"
    assert markers["pyinstaller"] is None
    assert markers["keyring"] is None
