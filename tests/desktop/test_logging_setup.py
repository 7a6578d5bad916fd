"""The log: platform log folder, rotation (5 × 2 MB), secrets masked, stderr as the CLI always printed it."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import logging_setup
from desktop.logging_setup import ENV_LOG_DIR, redact, setup_logging, shutdown_logging

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private log folder; the root logger is restored afterwards."""
    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in logging_setup.QUIET_LOGGERS}
    monkeypatch.setenv(ENV_LOG_DIR, str(tmp_path / "logs"))
    yield tmp_path / "logs"
    shutdown_logging()
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login with password=hunter2 ok", "login with password=*** ok"),
        ('{"api_key": "sk-abcdefghijklmnop1234", "x": 1}', '{"api_key": "***", "x": 1}'),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: *** ***"),
        ("token='abc123def'", "token='***'"),
        ("using key sk-ant-REDACTMEPLEASE123", "using key sk-***"),
        ("imaps://alice:s3cret@mail.example.com/INBOX", "imaps://alice:***@mail.example.com/INBOX"),
        ("AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlcg==", "AUTHENTICATE XOAUTH2 ***"),
        ("refresh_token: 0.AAA-bbb_ccc", "refresh_token: ***"),
        ("5 tokens used, 12 messages", "5 tokens used, 12 messages"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_log_folder_is_the_platforms_unless_overridden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import platformdirs

    monkeypatch.delenv(ENV_LOG_DIR, raising=False)
    assert logging_setup.log_dir() == Path(platformdirs.user_log_dir("Inbox Triage", appauthor=False))
    monkeypatch.setenv(ENV_LOG_DIR, str(tmp_path))
    assert logging_setup.log_dir() == tmp_path.resolve()
    assert logging_setup.log_file("gui").name == "inbox-triage.log"
    assert logging_setup.log_file("cli").name == "inbox-triage-cli.log"
    assert (logging_setup.MAX_BYTES, logging_setup.BACKUP_COUNT) == (2 * 1024 * 1024, 5)


def test_the_file_gets_info_and_stderr_only_warnings_unless_verbose(log_dir: Path) -> None:
    err = io.StringIO()
    path = setup_logging("cli", stream=err)
    assert path == log_dir / "inbox-triage-cli.log"
    log = logging.getLogger("engine.somewhere")
    log.info("polled 3 messages")
    log.warning("the server is slow")
    logging.getLogger("httpx").info("HTTP Request: GET https://crm.example/api?key=abc")
    logging.getLogger("httpx").warning("HTTP retry")
    assert err.getvalue() == "WARNING engine.somewhere: the server is slow\nWARNING httpx: HTTP retry\n"
    text = path.read_text(encoding="utf-8")
    assert "(from source)" in text.splitlines()[0] and text.splitlines()[0].endswith("; command line")
    assert "polled 3 messages" in text and "the server is slow" in text
    assert "HTTP Request" not in text and "HTTP retry" in text

    verbose = io.StringIO()
    setup_logging("gui", verbose=True, stream=verbose)
    logging.getLogger("desktop.x").info("window shown")
    assert "INFO desktop.x: window shown\n" in verbose.getvalue()
    assert "window shown" in (log_dir / "inbox-triage.log").read_text(encoding="utf-8")


def test_secrets_never_reach_the_file_not_even_in_tracebacks(log_dir: Path) -> None:
    path = setup_logging("gui", stream=io.StringIO())
    assert path is not None
    log = logging.getLogger("connectors.imap")
    log.warning("login refused for alice with password=%s", "hunter2")
    try:
        raise ValueError("token=abc123def456 expired")
    except ValueError:
        log.exception("refresh failed")
    text = path.read_text(encoding="utf-8")
    assert "hunter2" not in text and "abc123def456" not in text
    assert "password=***" in text and "ValueError: token=*** expired" in text


def test_the_log_rotates_and_keeps_five_old_files(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging_setup, "MAX_BYTES", 4_000)
    path = setup_logging("gui", stream=io.StringIO())
    assert path is not None
    log = logging.getLogger("engine.runner")
    for number in range(400):
        log.info("run %04d finished with a line long enough to fill the file quickly", number)
    names = sorted(p.name for p in log_dir.iterdir())
    assert names == ["inbox-triage.log", *(f"inbox-triage.log.{n}" for n in range(1, 6))]
    assert all(p.stat().st_size <= 4_000 for p in log_dir.iterdir())
    assert "run 0399" in path.read_text(encoding="utf-8")
    assert "run 0000" not in "".join(p.read_text(encoding="utf-8") for p in log_dir.iterdir())


def test_an_unwritable_log_folder_leaves_stderr_logging_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be", encoding="utf-8")
    monkeypatch.setenv(ENV_LOG_DIR, str(blocker))
    err = io.StringIO()
    assert setup_logging("cli", stream=err) is None
    assert "cannot write the log file" in err.getvalue()
    logging.getLogger("engine").error("still visible")
    assert "ERROR engine: still visible" in err.getvalue()


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, ENV_LOG_DIR: str(tmp_path / "logs")}
    return subprocess.run(
        [sys.executable, "-m", "desktop", "--profile", str(tmp_path / "p"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )


def test_the_command_line_logs_to_its_file_and_prints_as_before(tmp_path: Path) -> None:
    quiet = _cli(tmp_path, "policy", "list", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""
    log = (tmp_path / "logs" / "inbox-triage-cli.log").read_text(encoding="utf-8")
    assert "Inbox Triage 0.1.0 (from source)" in log and "; command line" in log
    verbose = _cli(tmp_path, "-v", "policy", "list", "--json")
    assert verbose.returncode == 0
    assert "INFO desktop.logging_setup: Inbox Triage 0.1.0 (from source)" in verbose.stderr
