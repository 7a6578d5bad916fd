"""Starting this app again as a child process: the command and the environment it needs.

Used by the self-test (its Qt probe) and by the engine's extra worker processes. Works from the
source tree (``python -m desktop``) and from the PyInstaller bundle (the bundle's executable).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def self_command() -> list[str]:
    """How to start this app again: the bundle's executable, or Python on the ``desktop`` package."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "desktop"]


def child_env() -> dict[str, str]:
    """This process's environment, plus the source tree on ``PYTHONPATH`` when not frozen."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        source_root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    return env
