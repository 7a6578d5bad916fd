"""The Qt binding must not drop references to None (PySide6 6.12.0 did, under Python 3.11).

Every call of a method returning nothing decremented None's reference count; a long-running
tray app aborted with "deallocating None" after a few thousand calls. pyproject.toml keeps the
binding below 6.12 for that reason; this test fails if a broken build comes back.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QLabel

pytestmark = pytest.mark.gui

CALLS = 2000


def test_void_calls_keep_none_alive(qtbot: object) -> None:
    label = QLabel()
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        label.setText("x")
        timer.stop()
        QCoreApplication.processEvents()
    after = sys.getrefcount(None)
    assert after >= before - CALLS // 10
