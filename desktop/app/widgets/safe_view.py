"""Showing an untrusted email: plain text by default, sanitised HTML on request, nothing loaded.

:class:`SafeEmailView` is a read-only ``QTextBrowser`` that never follows a link (neither inside
the view nor in a web browser) and whose document refuses every resource request, so not even
a ``data:`` or ``file:`` image can be pulled in. HTML is first passed through
:func:`engine.mail.sanitize.sanitize_html`, which keeps only formatting and turns links into text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget


class _InertDocument(QTextDocument):
    """A document that loads no resources at all."""

    refused: list[str]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.refused = []

    def loadResource(self, kind: int, name: QUrl | str) -> Any:  # noqa: N802
        """Refuse (and remember) every request: images, style sheets, anything."""
        self.refused.append(name.toString() if isinstance(name, QUrl) else str(name))
        return None


class SafeEmailView(QTextBrowser):
    """A read-only view of an email body that cannot reach anything outside the app."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self._document = _InertDocument(self)
        self.setDocument(self._document)
        self.anchorClicked.connect(self._ignore_link)

    @property
    def refused_resources(self) -> list[str]:
        """Resources the document was asked for and refused (tests look at this)."""
        return list(self._document.refused)

    def loadResource(self, kind: int, name: QUrl | str) -> Any:  # noqa: N802
        """Refuse every resource the browser itself is asked for."""
        self._document.refused.append(name.toString() if isinstance(name, QUrl) else str(name))
        return None

    def show_plain(self, text: str) -> None:
        """Show ``text`` as it is (no markup interpreted)."""
        self._document.clear()
        self.setPlainText(text)

    def show_html(self, html: str) -> None:
        """Show ``html`` after sanitising it."""
        from engine.mail.sanitize import sanitize_html

        self._document.clear()
        self.setHtml(sanitize_html(html))

    def _ignore_link(self, url: QUrl) -> None:
        self.setToolTip(f"Links are not opened from here: {url.toString()}")
