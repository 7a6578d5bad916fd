"""What the spec puts into the bundle and what it keeps out (packaging/bundle_rules.py), without building."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import PACKAGING, REPO, rules


@pytest.mark.parametrize(
    ("file_name", "name"),
    [
        ("libqxcb.so", "xcb"),
        ("qwindows.dll", "windows"),
        ("libqcocoa.dylib", "cocoa"),
        ("libqoffscreen.so", "offscreen"),
        ("libcomposeplatforminputcontextplugin.so", "compose"),
        ("libqsvg.so", "svg"),
        ("qico.dll", "ico"),
        ("libqgtk3.so", "gtk3"),
    ],
)
def test_qt_plugin_names(file_name: str, name: str) -> None:
    assert rules.qt_plugin_name(file_name) == name


@pytest.mark.parametrize(
    ("src", "dest", "kept"),
    [
        ("/qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms", True),
        ("/qt/plugins/platforms/libqoffscreen.so", "PySide6/Qt/plugins/platforms", True),
        ("C:/qt/plugins/platforms/qwindows.dll", "PySide6/plugins/platforms", True),
        ("/qt/plugins/platforms/libqcocoa.dylib", "PySide6/Qt/plugins/platforms", True),
        ("/qt/plugins/platforms/libqwayland.so", "PySide6/Qt/plugins/platforms", False),
        ("/qt/plugins/platforms/libqeglfs.so", "PySide6/Qt/plugins/platforms", False),
        ("/qt/plugins/platforms/libqvnc.so", "PySide6/Qt/plugins/platforms", False),
        ("/qt/plugins/imageformats/libqsvg.so", "PySide6/Qt/plugins/imageformats", True),
        ("/qt/plugins/imageformats/libqjpeg.so", "PySide6/Qt/plugins/imageformats", False),
        ("/qt/plugins/styles/qmodernwindowsstyle.dll", "PySide6/plugins/styles", True),
        ("/qt/plugins/iconengines/libqsvgicon.so", "PySide6/Qt/plugins/iconengines", True),
        ("/qt/plugins/tls/libqopensslbackend.so", "PySide6/Qt/plugins/tls", False),
        ("/qt/plugins/networkinformation/libqglib.so", "PySide6/Qt/plugins/networkinformation", False),
        ("/qt/plugins/platformthemes/libqgtk3.so", "PySide6/Qt/plugins/platformthemes", False),
        (
            "/qt/plugins/wayland-shell-integration/libxdg-shell.so",
            "PySide6/Qt/plugins/wayland-shell-integration",
            False,
        ),
    ],
)
def test_only_the_qt_plugins_the_app_uses_are_kept(src: str, dest: str, kept: bool) -> None:
    assert rules.keep_qt_plugin(src, dest) is kept


def test_a_qt_hook_loses_translations_and_unused_plugins_but_keeps_libraries() -> None:
    binaries = [
        ("/qt/lib/libQt6Gui.so.6", "PySide6/Qt/lib"),
        ("/qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms"),
        ("/qt/plugins/platforms/libqwayland.so", "PySide6/Qt/plugins/platforms"),
    ]
    datas = [
        ("/qt/translations/qtbase_de.qm", "PySide6/Qt/translations"),
        ("/somewhere/else/data.json", "PySide6"),
    ]
    kept_binaries, kept_datas = rules.filter_qt_hook(binaries, datas)
    assert kept_binaries == binaries[:2]
    assert kept_datas == [("/somewhere/else/data.json", "PySide6")]


def test_sample_data_and_cpython_test_modules_are_dropped() -> None:
    assert not rules.keep_data("sklearn/datasets/data/iris.csv")
    assert not rules.keep_data("scipy/special/_precompute/data.txt")
    assert rules.keep_data("sklearnish/data.txt")
    assert rules.keep_data("engine/classify/data/examples.jsonl")
    assert not rules.keep_binary("python3.11/lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so")
    assert not rules.keep_binary("python3.11/lib-dynload/_ctypes_test.cpython-311-x86_64-linux-gnu.so")
    assert rules.keep_binary("python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so")
    assert rules.keep_binary("python3.11/lib-dynload/_sqlite3.cpython-311-x86_64-linux-gnu.so")


def test_every_app_module_is_a_hidden_import_and_the_migrations_are_data() -> None:
    modules = rules.app_modules(REPO)
    for name in (
        "connectors.imap.source",
        "connectors.graph.sender",
        "connectors.smtp",
        "connectors.gmail",
        "connectors.providers.openai",
        "connectors.local_folder",
        "engine.crm.local",
        "desktop.app.application",
        "desktop.selftest",
        "engine.storage.migrate",
    ):
        assert name in modules
    assert not [m for m in modules if m.startswith("engine.storage.migrations")]
    connectors = sorted(p for p in (REPO / "connectors").rglob("*.py") if "__pycache__" not in p.parts)
    assert len([m for m in modules if m.startswith("connectors")]) == len(connectors)
    hidden = rules.hidden_imports(REPO)
    for name in (
        "sqlalchemy.dialects.sqlite.pysqlite",
        "sqlalchemy.dialects.postgresql.psycopg",
        "keyring.backends.Windows",
        "keyring.backends.macOS",
        "keyring.backends.SecretService",
        "apscheduler.triggers.date",
        "apscheduler.triggers.interval",
        "alembic.command",
    ):
        assert name in hidden
    assert set(modules) <= set(hidden)


def test_the_data_files_include_migrations_model_data_demo_mail_icons_and_guides() -> None:
    data = {Path(src).relative_to(REPO).as_posix(): dest for src, dest in rules.app_data(REPO)}
    assert data["engine/storage/migrations/env.py"] == "engine/storage/migrations"
    assert data["engine/storage/migrations/script.py.mako"] == "engine/storage/migrations"
    versions = [k for k, v in data.items() if v == "engine/storage/migrations/versions" and k.endswith(".py")]
    assert any(Path(v).name.startswith("0001") for v in versions)
    assert data["engine/classify/data/examples.jsonl"] == "engine/classify/data"
    assert data["connectors/demo/mailbox/manifest.json"] == "connectors/demo/mailbox"
    emls = [k for k in data if k.startswith("connectors/demo/mailbox/") and k.endswith(".eml")]
    assert len(emls) == len(list((REPO / "connectors/demo/mailbox").glob("*.eml")))
    assert data["desktop/app/resources/inbox-triage.png"] == "desktop/app/resources"
    assert data["docs/desktop.md"] == "docs"
    assert not [k for k in data if "__pycache__" in k or k.endswith(".pyc")]


def test_unused_heavy_modules_are_excluded_but_what_the_app_needs_stays() -> None:
    excluded = set(rules.EXCLUDED_MODULES)
    assert {"tkinter", "test", "sklearn", "scipy", "numpy.random", "PySide6.QtQml"} <= excluded
    # what the app (and training the classifier: numpy.linalg, np.savez/np.load) imports stays
    for needed in ("numpy", "numpy.linalg", "numpy.lib", "numpy.ma", "random", "PySide6.QtWidgets",
                   "PySide6.QtSvg", "cryptography", "psycopg"):
        assert needed not in excluded


def test_versions_become_four_numbers_for_windows() -> None:
    assert rules.numeric_version("0.1.0") == (0, 1, 0, 0)
    assert rules.numeric_version("1.2") == (1, 2, 0, 0)
    assert rules.numeric_version("2.3.4.dev7+g1a2b") == (2, 3, 4, 0)
    assert rules.numeric_version("1.2.3.4.5") == (1, 2, 3, 4)


def test_each_os_gets_its_executables() -> None:
    assert rules.executables("linux") == [("inbox-triage", True)]
    assert rules.executables("win32") == [("InboxTriage", False), ("inbox-triage", True)]
    assert rules.executables("darwin") == [("InboxTriage", False)]


def test_the_macos_info_plist_carries_the_version_and_the_app_settings() -> None:
    plist = rules.info_plist(PACKAGING / "macos" / "Info.plist", "1.4.2", "com.example.triage")
    assert plist["CFBundleShortVersionString"] == "1.4.2"
    assert plist["CFBundleVersion"] == "1.4.2"
    assert plist["CFBundleIdentifier"] == "com.example.triage"
    assert plist["LSUIElement"] is False
    assert plist["NSHighResolutionCapable"] is True
    assert plist["LSMinimumSystemVersion"] == "13.0"
    assert plist["CFBundleName"] == "Inbox Triage"
    default = rules.info_plist(PACKAGING / "macos" / "Info.plist", "0.1.0.dev3+g12")
    assert default["CFBundleIdentifier"] == rules.BUNDLE_ID_DEFAULT
    assert default["CFBundleShortVersionString"] == "0.1.0.dev3"
    assert default["CFBundleVersion"] == "0.1.0"
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements == {
        "com.apple.security.cs.allow-unsigned-executable-memory": True,
        "com.apple.security.cs.disable-library-validation": True,
    }


def test_the_manifest_lists_the_version_and_modules(tmp_path: Path) -> None:
    import json

    path = rules.write_manifest(tmp_path / "m" / rules.BUNDLE_MANIFEST, "9.9.9", ["a", "b.c"])
    assert json.loads(path.read_text(encoding="utf-8")) == {"version": "9.9.9", "modules": ["a", "b.c"]}


def _readelf_says_debug_info(path: Path) -> bool:
    out = subprocess.run(
        ["readelf", "-S", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return " .debug_info " in out


@pytest.mark.skipif(sys.platform != "linux", reason="ELF files")
def test_debug_sections_are_found_like_readelf_finds_them_and_stripped(tmp_path: Path) -> None:
    if shutil.which("readelf") is None or shutil.which("strip") is None:
        pytest.skip("binutils (readelf, strip) are not installed")
    import sqlite3

    import PySide6

    candidates = [
        Path(sqlite3.__file__).parent.parent / "lib-dynload",
        Path(PySide6.__file__).parent / "Qt" / "lib",
    ]
    files = [
        p
        for folder in candidates
        if folder.is_dir()
        for p in sorted(q for q in folder.iterdir() if ".so" in q.name)[:6]
    ]
    assert files
    for path in files:
        assert rules.has_debug_info(path) is _readelf_says_debug_info(path), path
    assert rules.has_debug_info(REPO / "pyproject.toml") is False
    with_debug = [p for p in files if rules.has_debug_info(p)]
    without = [p for p in files if not rules.has_debug_info(p)]
    if not with_debug or not without:
        pytest.skip("this Python and Qt offer no library with (or none without) debug sections to strip")
    entries = [(f"lib/{p.name}", str(p), "BINARY") for p in [*with_debug[:1], *without[:1]]]
    stripped = rules.strip_debug_info(entries, tmp_path)
    for (dest, src, kind), (new_dest, new_src, new_kind) in zip(entries, stripped, strict=True):
        assert (new_dest, new_kind) == (dest, kind)
        if rules.has_debug_info(Path(src)):
            assert Path(new_src).is_relative_to(tmp_path)
            assert not rules.has_debug_info(Path(new_src))
            assert Path(new_src).stat().st_size < Path(src).stat().st_size
        else:
            assert new_src == src
