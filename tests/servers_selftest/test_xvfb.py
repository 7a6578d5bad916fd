"""The Xvfb fixture: a real X display that Qt can open a window on and ImageMagick can capture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.binaries import requires_binary

QT_WINDOW = """
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("Inbox Triage")
label.resize(300, 100)
label.show()
app.processEvents()
print(app.platformName())
"""


def test_screenshot_of_the_display(xvfb_display: str, tmp_path: Path) -> None:
    """`import -window root` captures a 1280x800 picture of the display."""
    importer = requires_binary("import", "imagemagick")
    identify = requires_binary("identify", "imagemagick")
    shot = tmp_path / "root.png"
    subprocess.run([importer, "-display", xvfb_display, "-window", "root", str(shot)], check=True, timeout=30)
    size = subprocess.run(
        [identify, "-format", "%wx%h", str(shot)], check=True, capture_output=True, text=True, timeout=30
    )
    assert size.stdout == "1280x800"


def test_qt_opens_a_real_window(xvfb_display: str) -> None:
    """Qt's xcb platform plugin loads (its system libraries are installed) and shows a window."""
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run(
        [sys.executable, "-c", QT_WINDOW], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "xcb"
