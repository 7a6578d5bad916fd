"""`inbox-triage --selftest` from source: a line per check, the exit code, checks failing when they should."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import selftest
from desktop.__main__ import is_selftest, is_verbose
from desktop.selftest import CHECKS, Outcome, Workspace, run_check, run_selftest, short_error

REPO = Path(__file__).resolve().parents[1]
NAMES = [name for name, _check in CHECKS]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A workspace like the self-test's, closed afterwards."""
    workspace = Workspace(root=tmp_path / "selftest")
    workspace.root.mkdir()
    yield workspace
    workspace.close()


def _outcomes(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        outcome, _, rest = line.partition(" ")
        if outcome in ("OK", "WARN", "FAIL"):
            found[rest.strip().split(":")[0]] = outcome
    return found


def test_every_check_passes_from_source(
    memory_keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_TRIAGE_LOG_DIR", str(tmp_path / "logs"))
    out = io.StringIO()
    assert run_selftest(out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Inbox Triage self-test: Inbox Triage 0.1.0 (from source)")
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines[1:-1]] == NAMES
    assert all(line.startswith("OK   ") for line in lines[1:-1]), out.getvalue()
    assert lines[-1].startswith("self-test passed: 10 checks (")
    text = out.getvalue()
    assert "→ enquiry" in text and "waiting for review" in text and "chain verified" in text
    assert "trained on 549 examples" in text
    assert "MemoryKeyring" in text


def test_no_keyring_on_linux_is_a_warning_and_on_windows_a_failure(
    no_keyring, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    result = run_check("keyring", selftest.check_keyring, ws)
    assert result.outcome is Outcome.WARN
    assert "passwords and tokens cannot be saved" in result.detail and "Secret Service" in result.detail
    monkeypatch.setattr(sys, "platform", "win32")
    result = run_check("keyring", selftest.check_keyring, ws)
    assert result.outcome is Outcome.FAIL
    assert result.line().startswith("FAIL keyring: no secure keyring backend is available")


def test_a_failed_check_fails_the_run_and_later_checks_still_run(tmp_path: Path) -> None:
    def broken(_ws: Workspace) -> str:
        raise RuntimeError("first line of noise\nthe actual cause")

    out = io.StringIO()
    code = run_selftest(
        out, checks=[("first", lambda _ws: "fine"), ("second", broken), ("third", lambda _ws: "ok")]
    )
    assert code == 1
    lines = out.getvalue().splitlines()
    assert lines[1:4] == ["OK   first: fine", "FAIL second: RuntimeError: the actual cause", "OK   third: ok"]
    assert lines[4].startswith("self-test FAILED: 1 of 3 checks failed")


def test_a_qt_platform_that_cannot_load_is_a_fail_line_not_a_crash(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "nosuchplatform")
    result = run_check("qt", selftest.check_qt, ws)
    assert result.outcome is Outcome.FAIL
    assert result.detail.startswith("Qt could not start on nosuchplatform (exit ")
    assert 'Could not find the Qt platform plugin "nosuchplatform"' in result.detail


def test_missing_migration_files_fail_the_files_check(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.storage import migrate

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy)
    (copy / "script.py.mako").unlink()
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    result = run_check("files", selftest.check_files, ws)
    assert result.outcome is Outcome.FAIL
    assert result.detail == f"missing 1: {copy / 'script.py.mako'}"


def test_a_bundle_manifest_naming_a_module_that_is_not_there_fails_the_modules_check(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    result = run_check("modules", selftest.check_modules, ws)
    assert result.outcome is Outcome.FAIL and "bundle-manifest.json is missing" in result.detail
    manifest = {"version": "0.1.0", "modules": ["engine.errors", "connectors.nowhere"]}
    (bundle / selftest.BUNDLE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = run_check("modules", selftest.check_modules, ws)
    assert result.outcome is Outcome.FAIL
    assert result.detail.startswith("1 cannot be loaded: connectors.nowhere (ModuleNotFoundError: ")


def test_from_source_every_app_module_is_checked_but_not_the_migration_scripts() -> None:
    names = selftest.app_module_names()
    connectors = [p for p in (REPO / "connectors").rglob("*.py") if "__pycache__" not in p.parts]
    assert len([n for n in names if n.startswith("connectors")]) == len(connectors)
    assert "desktop.selftest" in names and "engine.storage.migrate" in names
    assert not [n for n in names if n.startswith("engine.storage.migrations") or n.endswith("__main__")]


def test_a_pipeline_without_a_database_says_so(ws: Workspace) -> None:
    result = run_check("pipeline", selftest.check_pipeline, ws)
    assert result.line() == "FAIL pipeline: not run: the database could not be set up"


def test_short_errors_keep_the_cause() -> None:
    assert short_error(
        ImportError("\n\nIMPORTANT: read this\n\nOriginal error was: libfoo.so: bad ELF\n")
    ) == ("ImportError: Original error was: libfoo.so: bad ELF")
    assert short_error(ValueError()) == "ValueError"
    assert len(short_error(ValueError("x" * 500))) == 200


@pytest.mark.parametrize(
    ("args", "selftest_wanted", "verbose"),
    [
        (["--selftest"], True, False),
        (["-v", "--selftest"], True, True),
        (["--profile", "/p", "--selftest"], True, False),
        (["--selftest-qt-probe", "/tmp/r.json"], True, False),
        (["queue", "--selftest"], False, False),
        (["queue", "list"], False, False),
        (["-v", "queue", "list"], False, True),
        (["queue", "list", "-v"], False, False),
        ([], False, False),
    ],
)
def test_the_entry_point_recognises_the_selftest(
    args: list[str], selftest_wanted: bool, verbose: bool
) -> None:
    assert is_selftest(args) is selftest_wanted
    assert is_verbose(args) is verbose


def test_the_command_runs_the_selftest_and_exits_zero(tmp_path: Path) -> None:
    env = {**os.environ, "INBOX_TRIAGE_LOG_DIR": str(tmp_path / "logs"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "--selftest"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = _outcomes(done.stdout)
    assert list(outcomes) == NAMES
    assert outcomes["qt"] == "OK" and outcomes["pipeline"] == "OK"
    assert "platform 'offscreen'" in done.stdout
