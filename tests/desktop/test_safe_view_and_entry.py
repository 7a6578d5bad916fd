"""The email view loads nothing from outside; the entry point opens the window only without a command."""

from __future__ import annotations

import pytest

from desktop.__main__ import window_profile
from desktop.app.widgets.safe_view import SafeEmailView

pytestmark = pytest.mark.gui

HOSTILE = (
    '<p>Hello <b>there</b></p><img src="https://tracker.example/pixel.png">'
    '<script>alert(1)</script><a href="https://phish.example/login">Log in</a>'
    '<link rel="stylesheet" href="https://cdn.example/x.css">'
)


def test_sanitised_html_keeps_formatting_and_drops_everything_active(qtbot) -> None:
    view = SafeEmailView()
    qtbot.addWidget(view)
    view.show_html(HOSTILE)
    html = view.toHtml()
    assert "there" in view.toPlainText()
    assert "pixel.png" not in html
    assert "alert" not in view.toPlainText()
    assert 'href="https://phish.example' not in html
    assert "https://phish.example/login" in view.toPlainText()
    assert view.refused_resources == []
    assert not view.openLinks()
    assert not view.openExternalLinks()


def test_even_unsanitised_html_cannot_load_a_resource(qtbot) -> None:
    view = SafeEmailView()
    qtbot.addWidget(view)
    view.setHtml('<img src="https://tracker.example/pixel.png"><img src="file:///etc/passwd">')
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.grab()
    assert "https://tracker.example/pixel.png" in view.refused_resources
    assert any("passwd" in r for r in view.refused_resources)


def test_plain_text_is_not_interpreted(qtbot) -> None:
    view = SafeEmailView()
    qtbot.addWidget(view)
    view.show_plain(HOSTILE)
    assert view.toPlainText() == HOSTILE


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], (True, None)),
        (["--profile", "/p"], (True, "/p")),
        (["--profile=/p", "-v"], (True, "/p")),
        (["demo"], (False, None)),
        (["--profile", "/p", "queue", "list"], (False, None)),
        (["--help"], (False, None)),
    ],
)
def test_the_window_opens_only_without_a_command(args: list[str], expected: tuple[bool, str | None]) -> None:
    assert window_profile(args) == expected
