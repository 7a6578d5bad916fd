"""The app around the tabs: first-run choice, live polling and complaint notices, tray, layout memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app.application import WELCOME_DONE, AppController
from desktop.app.layout_memory import LayoutMemory
from tests.desktop.conftest import AppFactory

pytestmark = pytest.mark.gui


def test_first_start_offers_the_demo_and_it_triages_live(make_app: AppFactory, tmp_path: Path, qtbot) -> None:
    app = make_app(tmp_path / "office", poll=True)
    window = app.window
    assert window.stack.currentWidget() is window.welcome
    with qtbot.waitSignal(app.ready, timeout=30_000):
        qtbot.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    assert "demo: Thornbury & Webb Print Studio" in window.windowTitle()
    assert window.stack.currentWidget() is window.tabs
    review = app.review
    assert review is not None
    qtbot.waitUntil(lambda: len(review.model.rows) >= 30, timeout=60_000)
    assert window.tabs.tabText(0).startswith("Review (")
    qtbot.waitUntil(lambda: app.tray.last_message is not None, timeout=20_000)
    title, _body = app.tray.last_message
    assert "complaints" in title or title.startswith("New complaint")
    qtbot.waitUntil(lambda: app.poller is not None and app.poller.last_poll is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.poll_status.label.text().startswith("Last checked"), timeout=20_000)


def test_connect_your_mailbox_opens_the_mail_accounts_page(
    make_app: AppFactory, tmp_path: Path, qtbot
) -> None:
    app = make_app(tmp_path / "office")
    window = app.window
    assert window.stack.currentWidget() is window.welcome
    with qtbot.waitSignal(app.settings_tab.loaded, timeout=10_000):
        qtbot.mouseClick(window.welcome.connect_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is app.settings_tab
    page = app.settings_tab.current
    assert page.key == "mail_accounts"
    assert page.editing_title.text() == "New IMAP account"
    status = app.settings_tab.pages["connections"]
    assert status.summary.text() == "Mail accounts: none connected yet — replies go to the local outbox."
    assert status.note.text() == "Add or change mail accounts on the Mail accounts page."
    assert app.memory.flag(WELCOME_DONE)


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_closing_the_window_keeps_it_running_in_the_tray(
    make_app: AppFactory, demo_root: Path, qtbot
) -> None:
    app = make_app(demo_root, tray=True)
    assert app.window.isVisible()
    app.window.close()
    assert not app.window.isVisible()
    assert app.ctx is not None and app.poller is not None
    assert app.tray.last_message is not None and "still running" in app.tray.last_message[0]
    app.bring_forward()
    assert app.window.isVisible()


def test_check_now_polls_and_updates_the_status(app: AppController, qtbot) -> None:
    assert app.poller is not None
    with qtbot.waitSignal(app.poller.finished, timeout=30_000):
        app.window.poll_status.button.click()
    qtbot.waitUntil(lambda: app.window.poll_status.label.text().startswith("Last checked"), timeout=5_000)


def test_layout_and_column_widths_are_remembered(make_app: AppFactory, demo_root: Path, qtbot) -> None:
    app = make_app(demo_root)
    review = app.review
    assert review is not None
    # The offscreen screen is 800x600, so the window stays at its minimum size (900x600).
    app.window.resize(900, 600)
    qtbot.waitUntil(lambda: review.splitter.width() < 900, timeout=5_000)
    review.table.setColumnWidth(1, 222)
    review.splitter.setSizes([300, 500])
    sizes = review.splitter.sizes()
    app.shutdown()
    assert LayoutMemory(demo_root).settings.value("columns/queueTable") is not None
    again = make_app(demo_root)
    assert again.review is not None
    assert again.review.table.columnWidth(1) == 222
    qtbot.waitUntil(lambda: again.review.splitter.sizes() == sizes, timeout=5_000)
    assert (again.window.width(), again.window.height()) == (900, 600)
