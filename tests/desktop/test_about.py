"""Help → About: version, data folder, log folder and guides, selectable and copyable."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel

from desktop.app.about import AboutDialog, AboutInfo, about_info, app_icon_file, docs_dir, user_guide
from desktop.logging_setup import ENV_LOG_DIR, app_version
from tests.desktop.conftest import AppFactory

pytestmark = pytest.mark.gui


def test_the_facts_come_from_the_package_the_profile_and_the_log_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_LOG_DIR, str(tmp_path / "logs"))
    info = about_info(tmp_path / "profile")
    assert info.version == app_version() == "0.1.0"
    assert info.how == "running from source"
    assert info.data_folder == tmp_path / "profile"
    assert info.log_folder == (tmp_path / "logs").resolve()
    assert [label for label, _ in info.guides] == ["User guide", "Command line", "Audit log"]
    assert all(path.is_file() for _, path in info.guides)
    assert user_guide() == docs_dir() / "desktop.md"
    assert app_icon_file().is_file()
    text = info.as_text()
    assert text.splitlines()[0] == "Inbox Triage 0.1.0 (running from source)"
    assert f"Data folder: {tmp_path / 'profile'}" in text
    assert "Log folder: " in text and "System: " in text


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")  # offscreen platform
def test_help_about_opens_the_dialog_on_the_open_profile(
    make_app: AppFactory, demo_root: Path, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_LOG_DIR, str(tmp_path / "logs"))
    app = make_app(demo_root)
    window = app.window
    assert window.about_action.text() == "&About Inbox Triage"
    assert not window.about_action.shortcut().isEmpty()
    help_menu = window.menuBar().actions()[0]
    assert help_menu.text() == "&Help" and window.about_action in help_menu.menu().actions()
    window.about_action.trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.version_label.text() == f"Version {app_version()} (running from source)"
    assert dialog.fields["Data folder"].text() == str(demo_root)
    assert dialog.fields["Log folder"].text() == str((tmp_path / "logs").resolve())
    assert Path(dialog.fields["User guide"].text()).name == "desktop.md"
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert "inbox-triage --selftest" in " ".join(labels)
    with qtbot.waitSignal(dialog.copied, timeout=2_000):
        dialog.copy_button.click()
    clipboard = QApplication.clipboard().text()
    assert clipboard == dialog.info.as_text()
    assert f"Data folder: {demo_root}" in clipboard
    dialog.close()


def test_the_dialog_shows_what_it_is_given(qtbot, tmp_path: Path) -> None:
    info = AboutInfo(
        version="9.8.7",
        how="installed app",
        data_folder=tmp_path / "data",
        log_folder=tmp_path / "logs",
        guides=(("User guide", tmp_path / "guide.md"),),
        system="TestOS",
    )
    dialog = AboutDialog(info)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "About Inbox Triage"
    assert dialog.version_label.text() == "Version 9.8.7 (installed app)"
    assert dialog.fields["Log folder"].text() == str(tmp_path / "logs")
    assert dialog.fields["System"].text() == "TestOS"
