"""One instance per profile: a second launch asks the first to come forward and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.app.single_instance import SingleInstance, ask_running_instance, claim_or_activate, server_name

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


def test_the_name_depends_on_the_profile(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")


def test_a_second_instance_activates_the_first(tmp_path: Path, qtbot) -> None:
    first = claim_or_activate(tmp_path)
    assert first is not None
    try:
        with qtbot.waitSignal(first.activate_requested, timeout=5_000):
            second = claim_or_activate(tmp_path)
        assert second is None
    finally:
        first.close()
    assert not ask_running_instance(server_name(tmp_path))


def test_a_second_launch_of_the_real_command_exits_and_focuses_the_first(tmp_path: Path, qtbot) -> None:
    profile = tmp_path / "profile"
    instance = SingleInstance(server_name(profile.resolve()))
    assert instance.listen()
    try:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        with qtbot.waitSignal(instance.activate_requested, timeout=30_000):
            process = subprocess.Popen(
                [sys.executable, "-m", "desktop", "--profile", str(profile)],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        out, err = process.communicate(timeout=30)
    finally:
        instance.close()
    assert process.returncode == 0, err
    assert "already open" in out
    assert not (profile / "inbox-triage.db").exists()
