"""Starting this app again as a child process: the command and the environment it needs.

Used by the self-test (its Qt probe) and by the engine's extra worker processes. Works from the
source tree (``python -m desktop``) and from the PyInstaller bundle (the bundle's executable).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def self_command() -> list[str]:
    """How to start this app again: the bundle's executable, or Python on the ``desktop`` package."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "desktop"]


#: The bundle's console executable (Windows ships it beside the windowed one; see packaging).
CONSOLE_EXE = "inbox-triage"


def command_line_command() -> list[str]:
    """Like :func:`self_command`, for a child that talks through stdin/stdout (a worker).

    On Windows the bundle's windowed executable has no standard streams, so its console sibling
    is used when present.
    """
    if getattr(sys, "frozen", False) and sys.platform == "win32":
        console = Path(sys.executable).with_name(CONSOLE_EXE + ".exe")
        if console.exists():
            return [str(console)]
    return self_command()


def hidden_window_flags() -> int:
    """``creationflags`` that keep a console child from opening a window (Windows; 0 elsewhere)."""
    return int(getattr(subprocess, "CREATE_NO_WINDOW", 0))


def child_env() -> dict[str, str]:
    """This process's environment, plus the source tree on ``PYTHONPATH`` when not frozen."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        source_root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    return env
