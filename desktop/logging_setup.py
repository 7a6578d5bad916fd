"""Where the app writes its log, how the log rotates, and what it never contains.

The log lives in the platform's log folder (``platformdirs.user_log_dir``: ``%LOCALAPPDATA%\\Inbox
Triage\\Logs`` on Windows, ``~/Library/Logs/Inbox Triage`` on macOS, ``~/.local/state/Inbox
Triage/log`` on Linux), or in ``$INBOX_TRIAGE_LOG_DIR`` when that is set. The window and the
command line write separate files (``inbox-triage.log``, ``inbox-triage-cli.log``) so a
``serve`` running beside the window never fights it over rotation. Each file rotates at
:data:`MAX_BYTES` and keeps :data:`BACKUP_COUNT` old copies.

Secrets never reach the file: every line goes through :func:`redact` (passwords, tokens, API keys,
``Authorization`` headers, credentials in URLs), and the libraries that log request URLs or
protocol traffic are held at WARNING.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, TextIO

APP_NAME = "Inbox Triage"
DISTRIBUTION = "inbox-triage"
#: Overrides the log folder (support, tests).
ENV_LOG_DIR = "INBOX_TRIAGE_LOG_DIR"
#: A log file is rotated when it would grow past this size…
MAX_BYTES = 2 * 1024 * 1024
#: …and this many rotated files are kept (inbox-triage.log.1 … .5).
BACKUP_COUNT = 5
LOG_FILES = {"gui": "inbox-triage.log", "cli": "inbox-triage-cli.log"}
FILE_FORMAT = "%(asctime)s %(levelname)-8s %(threadName)s %(name)s: %(message)s"
#: The command line's stderr format (as ``desktop.cli.main`` has always printed it).
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"
#: Libraries that log URLs, protocol lines or every scheduler tick at INFO: only their warnings are kept.
QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "imapclient", "msal", "apscheduler", "keyring", "asyncio")

#: The logger uncaught errors are written to (desktop.crash_handler); it tells stderr itself, so
#: the stderr handler leaves its records to the file.
CRASH_LOGGER = "inbox_triage.crash"

Mode = Literal["gui", "cli"]

_MASK = "***"
_SENSITIVE_NAMES = (
    r"password|passwd|pwd|secret|client_secret|api[_-]?key|x-api-key|access_token|refresh_token|"
    r"id_token|token|authorization|auth|credentials?"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc / Basic abc / a bare bearer token anywhere in a message
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE), rf"\1 {_MASK}"),
    # XOAUTH2 initial responses in IMAP/SMTP traces
    (re.compile(r"\b(XOAUTH2|OAUTHBEARER)\s+[A-Za-z0-9+/=]{8,}", re.IGNORECASE), rf"\1 {_MASK}"),
    # key=value, key: value, "key": "value" (JSON), key='value' (repr)
    (
        re.compile(
            rf"""(?P<key>["']?\b(?:{_SENSITIVE_NAMES})\b["']?\s*[:=]\s*)(?P<q>["']?)(?P<value>[^\s"',;&}}]+)(?P=q)""",
            re.IGNORECASE,
        ),
        rf"\g<key>\g<q>{_MASK}\g<q>",
    ),
    # provider API keys that show up on their own (OpenAI "sk-…", Anthropic "sk-ant-…")
    (re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"), f"sk-{_MASK}"),
    # user:password@host in URLs
    (
        re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):[^@/\s]+@", re.IGNORECASE),
        rf"\g<scheme>\g<user>:{_MASK}@",
    ),
)


def redact(text: str) -> str:
    """``text`` with anything that looks like a secret replaced by ``***``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and traceback alike) has secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then :func:`redact` the whole line."""
        return redact(super().format(record))


def app_version() -> str:
    """The installed version of Inbox Triage (from the package metadata, also inside the bundle)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed: run `pip install -e .`)"


def is_frozen() -> bool:
    """Whether this is the installed app (a PyInstaller bundle) rather than Python running the source."""
    return bool(getattr(sys, "frozen", False))


def log_dir() -> Path:
    """The folder the log files go to (``$INBOX_TRIAGE_LOG_DIR`` or the platform's user log folder)."""
    override = os.environ.get(ENV_LOG_DIR)
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file(mode: Mode) -> Path:
    """The current log file of the window (``gui``) or of the command line (``cli``)."""
    return log_dir() / LOG_FILES[mode]


def describe_runtime() -> str:
    """One line naming the version, how it runs, the OS and Python (the first line of every session)."""
    how = "installed app" if is_frozen() else "from source"
    return f"{APP_NAME} {app_version()} ({how}) on {platform.platform()}, Python {platform.python_version()}"


def setup_logging(mode: Mode, *, verbose: bool = False, stream: TextIO | None = None) -> Path | None:
    """Log to the rotating file of ``mode`` and to stderr; return the log file (None if it cannot be written).

    stderr shows warnings and errors (with ``verbose``, progress too) in the command line's format,
    as it always has. The file keeps INFO and above. Calling it again replaces what an earlier call
    installed, so it is safe in tests.
    """
    root = logging.getLogger()
    _remove_ours(root)
    root.setLevel(logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    err = stream if stream is not None else sys.stderr
    if err is not None:  # a windowed app on Windows has no stderr at all
        console = logging.StreamHandler(err)
        console.setLevel(logging.INFO if verbose else logging.WARNING)
        console.setFormatter(RedactingFormatter(STDERR_FORMAT))
        console.addFilter(lambda record: record.name != CRASH_LOGGER)
        _mark(console)
        root.addHandler(console)
    path = log_file(mode)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write the log file %s: %s", path, exc)
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(RedactingFormatter(FILE_FORMAT))
    _mark(handler)
    root.addHandler(handler)
    what = "window" if mode == "gui" else "command line"
    logging.getLogger(__name__).info("%s; %s", describe_runtime(), what)
    return path


def shutdown_logging() -> None:
    """Flush and remove the handlers :func:`setup_logging` installed."""
    _remove_ours(logging.getLogger())


_OURS = "_inbox_triage_handler"


def _mark(handler: logging.Handler) -> None:
    setattr(handler, _OURS, True)


def _remove_ours(logger: logging.Logger) -> None:
    for handler in list(_ours(logger.handlers)):
        logger.removeHandler(handler)
        handler.close()


def _ours(handlers: Iterable[logging.Handler]) -> Iterable[logging.Handler]:
    return [h for h in handlers if getattr(h, _OURS, False)]
