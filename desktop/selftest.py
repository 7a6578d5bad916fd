"""``inbox-triage --selftest``: is everything this computer needs to run Inbox Triage in place?

Useful to a support person on a customer's machine and to CI on a freshly built bundle. In a
temporary profile (the user's own profile, database and keyring are never touched) it checks, one
line each (``OK  …``, ``WARN …``, ``FAIL …``):

- ``files``: migrations (with ``env.py`` and ``script.py.mako``), classifier examples, demo mailbox,
  app icon and user guide are where the code looks for them;
- ``modules``: every module of the app imports (in a bundle: every module the build found in the
  source tree), with the dynamically loaded ones: SQLAlchemy's sqlite and psycopg dialects,
  the keyring backend of this OS, APScheduler's triggers;
- ``qt``: a Qt application starts on the current ``QT_QPA_PLATFORM`` (in a child process: Qt aborts
  a process whose platform plugin cannot load) and can read PNG and SVG images;
- ``database``: the Alembic migrations bring an empty SQLite database to the current schema;
- ``postgres driver``: the PostgreSQL driver (psycopg) loads, for shared-office profiles;
- ``keyring``: a secure keyring backend is available. On Windows and macOS the OS always has one,
  so none means a broken install (FAIL). On Linux a desktop may lack a running Secret Service: the
  app still works but cannot save passwords, so that is a WARN;
- ``classifier``: the offline model trains from the shipped examples, is cached, and loads back;
- ``pipeline``: one demo email goes through ingest, classification, CRM log and draft to the review
  queue (or is closed), with its audit chain intact;
- ``scheduler``: a one-off job (the trigger "check now" uses) is scheduled and runs;
- ``logs``: the log folder can be written (WARN when not: the app runs, but without a log file).

The exit code is 0 when nothing failed (warnings allowed) and 1 otherwise.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from desktop.self_launch import child_env, self_command

if TYPE_CHECKING:
    from engine.service import TriageService
    from engine.storage.db import Database

SELFTEST_FLAG = "--selftest"
#: Internal: the child process of the ``qt`` check.
QT_PROBE_FLAG = "--selftest-qt-probe"
#: Written into the bundle by the PyInstaller spec: the app's modules found in the source tree.
BUNDLE_MANIFEST = "bundle-manifest.json"
#: App packages whose every module must import (migration scripts are data, run by Alembic).
APP_PACKAGES = ("engine", "connectors", "desktop")
SKIPPED_MODULES = ("engine.storage.migrations",)
QT_PROBE_TIMEOUT_S = 90.0
SCHEDULER_TIMEOUT_S = 20.0
#: Image formats the app needs from Qt (PNG is built in; SVG is a plugin).
QT_IMAGE_FORMATS = ("png", "svg")
#: The keyring entry point each OS must provide.
KEYRING_BACKEND_BY_PLATFORM = {"win32": "Windows", "darwin": "macOS"}
KEYRING_BACKEND_DEFAULT = "SecretService"


class Outcome(StrEnum):
    """How a check ended."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Result:
    """One check's outcome, printed as one line."""

    outcome: Outcome
    name: str
    detail: str

    def line(self) -> str:
        """``OK  name: detail`` (the outcome padded to four characters)."""
        return f"{self.outcome.value:<4} {self.name}: {self.detail}"


class CheckError(Exception):
    """A check found a problem; its message is the line's detail."""


class CheckWarningError(Exception):
    """A check found something worth saying that does not stop the app working."""


@dataclass
class Workspace:
    """The temporary profile the checks share (database, service) and what they learnt."""

    root: Path
    service: TriageService | None = None
    db: Database | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def require_service(self) -> TriageService:
        """The service opened by the ``database`` check (fails when that check did)."""
        if self.service is None:
            raise CheckError("not run: the database could not be set up")
        return self.service

    def close(self) -> None:
        """Close the service and database (before the folder is removed)."""
        if self.service is not None:
            self.service.close()
        elif self.db is not None:
            self.db.dispose()
        self.service = None
        self.db = None


# --- the checks -------------------------------------------------------------------------------------


def check_files(_ws: Workspace) -> str:
    """The data files the code reads at run time are where it looks for them."""
    from connectors.demo import demo_mailbox_dir, demo_manifest
    from desktop.app.about import app_icon_file, user_guide
    from engine.classify.dataset import load_shipped_examples
    from engine.storage.migrate import MIGRATIONS_DIR

    needed = [MIGRATIONS_DIR / "env.py", MIGRATIONS_DIR / "script.py.mako"]
    missing = [str(path) for path in needed if not path.is_file()]
    versions = sorted(p for p in (MIGRATIONS_DIR / "versions").glob("*.py") if p.name != "__init__.py")
    if not versions:
        missing.append(str(MIGRATIONS_DIR / "versions" / "*.py"))
    entries = demo_manifest()
    mailbox = demo_mailbox_dir()
    missing += [str(mailbox / e.file) for e in entries if not (mailbox / e.file).is_file()]
    for path in (app_icon_file(), user_guide()):
        if not path.is_file():
            missing.append(str(path))
    if missing:
        raise CheckError(f"missing {len(missing)}: {', '.join(missing[:5])}")
    examples = load_shipped_examples()
    return (
        f"{len(versions)} migration(s) with env.py and script.py.mako, {len(examples)} classifier examples, "
        f"{len(entries)} demo emails, app icon, user guide"
    )


def app_module_names() -> list[str]:
    """The modules of the app: from the bundle's manifest when frozen, else from the source tree."""
    manifest = bundle_manifest()
    if manifest is not None:
        modules = manifest.get("modules", [])
        if not isinstance(modules, list):
            raise CheckError(f"{BUNDLE_MANIFEST}: 'modules' is not a list")
        return [str(m) for m in modules]
    names: list[str] = []
    for package in APP_PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.", onerror=lambda _name: None):
            names.append(info.name)
    return sorted(n for n in names if not n.startswith(SKIPPED_MODULES) and not n.endswith(".__main__"))


def bundle_manifest() -> dict[str, object] | None:
    """The manifest the build wrote into the bundle (None when running from source)."""
    base = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or base is None:
        return None
    path = Path(base) / BUNDLE_MANIFEST
    if not path.is_file():
        raise CheckError(f"{path} is missing: the bundle was not built from packaging/inbox_triage.spec")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CheckError(f"{path} is not a JSON object")
    return data


def check_modules(_ws: Workspace) -> str:
    """Every app module imports, and so do the modules other libraries load by name."""
    names = app_module_names()
    failures: list[str] = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - every failure is reported on the line
            failures.append(f"{name} ({short_error(exc)})")
    from sqlalchemy.dialects import registry

    for dialect in ("sqlite.pysqlite", "postgresql.psycopg"):
        try:
            registry.load(dialect)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"SQLAlchemy dialect {dialect} ({short_error(exc)})")
    triggers = _entry_points("apscheduler.triggers")
    for trigger in ("date", "interval", "cron"):
        if trigger not in triggers:
            failures.append(f"APScheduler trigger {trigger!r} (entry points: {sorted(triggers) or 'none'})")
        else:
            try:
                triggers[trigger]()
            except Exception as exc:  # noqa: BLE001
                failures.append(f"APScheduler trigger {trigger!r} ({short_error(exc)})")
    if failures:
        raise CheckError(f"{len(failures)} cannot be loaded: {'; '.join(failures[:3])}")
    return (
        f"{len(names)} app modules, SQLAlchemy sqlite and psycopg dialects, "
        "APScheduler date/interval/cron triggers"
    )


def _entry_points(group: str) -> dict[str, Callable[[], object]]:
    from importlib.metadata import entry_points

    return {ep.name: ep.load for ep in entry_points(group=group)}


def check_qt(_ws: Workspace) -> str:
    """A Qt application starts on this platform plugin (in a child process) and reads PNG and SVG."""
    platform_name = os.environ.get("QT_QPA_PLATFORM") or "the default platform"
    with tempfile.TemporaryDirectory(prefix="inbox-triage-qt-probe-") as tmp:
        report = Path(tmp) / "qt.json"
        command = [*self_command(), QT_PROBE_FLAG, str(report)]
        try:
            done = subprocess.run(  # noqa: S603 - our own executable, arguments built here
                command,
                capture_output=True,
                text=True,
                timeout=QT_PROBE_TIMEOUT_S,
                check=False,
                env=child_env(),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise CheckError(
                f"a Qt window on {platform_name} did not start within {QT_PROBE_TIMEOUT_S:.0f} s"
            ) from exc
        if done.returncode != 0 or not report.is_file():
            lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
            tail = " | ".join(lines[-3:])
            raise CheckError(
                f"Qt could not start on {platform_name} (exit {done.returncode}): {tail or 'no output'}"
            )
        data = json.loads(report.read_text(encoding="utf-8"))
    formats = set(data.get("image_formats", []))
    lacking = [f for f in QT_IMAGE_FORMATS if f not in formats]
    if lacking:
        raise CheckError(
            f"Qt {data.get('qt')} on {data.get('platform')} cannot read {', '.join(lacking)} images"
        )
    if not data.get("icon"):
        raise CheckError("the app icon could not be drawn")
    return (
        f"Qt {data.get('qt')} on platform {data.get('platform')!r}, "
        f"styles {', '.join(data.get('styles', []))}, images {', '.join(QT_IMAGE_FORMATS)}"
    )


def qt_probe(report: Path) -> int:
    """The child of the ``qt`` check: start Qt, show and draw a window, write what it found to ``report``."""
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QImageReader, QPixmap
    from PySide6.QtWidgets import QApplication, QLabel, QStyleFactory

    from desktop.app.about import app_icon_file

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    icon = QPixmap(str(app_icon_file()))
    label = QLabel()
    label.setPixmap(icon)
    label.show()
    app.processEvents()
    drawn = not label.grab().isNull() and not icon.isNull()
    label.close()
    data = {
        "platform": app.platformName(),
        "qt": qVersion(),
        "image_formats": sorted(
            bytes(f.data()).decode("ascii", "replace") for f in QImageReader.supportedImageFormats()
        ),
        "styles": list(QStyleFactory.keys()),
        "icon": drawn,
    }
    report.write_text(json.dumps(data), encoding="utf-8")
    return 0


def check_database(ws: Workspace) -> str:
    """The migrations bring an empty SQLite database (in the temporary profile) to the current schema."""
    from engine.profile import Profile
    from engine.storage import migrate
    from engine.storage.db import Database

    profile = Profile(ws.root / "profile")
    profile.ensure()
    ws.db = Database(f"sqlite+pysqlite:///{profile.database_file}")
    applied = migrate.upgrade(ws.db)
    revision = migrate.current_revision(ws.db)
    if not applied or revision != migrate.HEAD:
        raise CheckError(f"the schema is at {revision!r} after migrating; expected {migrate.HEAD!r}")
    ws.service = _demo_service(profile, ws.db, ws.root / "inbox")
    return f"SQLite {_sqlite_version()} migrated to revision {revision} with Alembic"


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def _demo_service(profile: object, db: Database, inbox: Path) -> TriageService:
    """A service on the temporary profile reading one demo email from ``inbox``."""
    from connectors.demo import QUARANTINE, demo_mailbox_dir, demo_manifest
    from connectors.local_folder import EmlFolderSource
    from connectors.outbox import OutboxFolderSender
    from desktop.wiring import DEMO_OFFICE
    from engine.profile import Profile
    from engine.service import Connections, TriageService

    assert isinstance(profile, Profile)
    inbox.mkdir(parents=True, exist_ok=True)
    first = next(e for e in demo_manifest() if e.expected != QUARANTINE)
    shutil.copy2(demo_mailbox_dir() / first.file, inbox / first.file)
    source = EmlFolderSource(inbox, account="demo", folder="INBOX")
    connections = Connections(sender=OutboxFolderSender(profile.outbox_dir), sources={source.account: source})
    service = TriageService(profile, db, connections)
    service.settings.save_office(DEMO_OFFICE, actor=None)
    return service


def check_postgres_driver(_ws: Workspace) -> str:
    """psycopg and its compiled implementation load (shared-office profiles use PostgreSQL)."""
    import psycopg
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://selftest@127.0.0.1:1/none")  # never connects
    try:
        dialect = engine.dialect.name
    finally:
        engine.dispose()
    impl = psycopg.pq.__impl__
    return f"psycopg {psycopg.__version__} ({impl} implementation), SQLAlchemy dialect {dialect}"


def check_keyring(_ws: Workspace) -> str:
    """A secure keyring backend is available (this OS's backend at least ships in the build)."""
    import keyring

    from connectors.secrets import secure_backend

    wanted = KEYRING_BACKEND_BY_PLATFORM.get(sys.platform, KEYRING_BACKEND_DEFAULT)
    shipped = set(_entry_points("keyring.backends"))
    if wanted not in shipped:
        found = ", ".join(sorted(shipped)) or "none"
        raise CheckError(f"keyring's {wanted} backend is not in this build (found: {found})")
    backend = secure_backend()
    if backend is not None:
        return f"{type(backend).__module__}.{type(backend).__name__} (priority {backend.priority:g})"
    active = keyring.get_keyring()
    message = (
        f"no secure keyring backend is available (keyring chose {type(active).__module__}); the app works, "
        "but passwords and tokens cannot be saved"
    )
    if sys.platform in KEYRING_BACKEND_BY_PLATFORM:
        raise CheckError(message)
    raise CheckWarningError(f"{message} until a Secret Service keyring (GNOME Keyring, KWallet) is running")


def check_classifier(ws: Workspace) -> str:
    """The offline model trains from the shipped examples, is cached, and loads back from the cache."""
    from engine.classify.model import MODEL_FILE, LocalClassifier

    service = ws.require_service()
    started = time.perf_counter()
    classifier = service.classifier()
    trained_s = time.perf_counter() - started
    cache = service.profile.model_dir / MODEL_FILE
    if not cache.is_file():
        raise CheckError(f"the trained model was not cached in {cache}")
    loaded = LocalClassifier.load(cache)
    if loaded.fingerprint != classifier.model.fingerprint:
        raise CheckError("the cached model does not match the trained one")
    return (
        f"trained on {classifier.model.meta.examples} examples in {trained_s:.1f} s "
        f"({len(classifier.model.meta.classes)} categories), cached and reloaded"
    )


def check_pipeline(ws: Workspace) -> str:
    """One demo email: ingested, then every step until it waits for review (or is closed); audit intact."""
    from engine.audit_ops import verify

    service = ws.require_service()
    report = service.poll()
    if report.errors:
        raise CheckError(f"the poll reported errors: {report.errors}")
    run_ids = report.ingest.new_run_ids or []
    if len(run_ids) != 1:
        raise CheckError(f"expected one new run from one email, got {len(run_ids)}")
    run = service.queries.run(run_ids[0])
    if run.state not in ("waiting_review", "completed"):
        why = run.error or "no error given"
        raise CheckError(f"the run ended {run.state!r} at step {run.step!r}: {why}")
    verification = verify(service.db)
    if not verification.ok:
        raise CheckError(f"the audit chain does not verify: {verification.chain}")
    where = "is waiting for review" if run.state == "waiting_review" else "was closed"
    confidence = f" ({run.confidence:.2f})" if run.confidence is not None else ""
    return (
        f"{run.subject!r} → {run.category}{confidence}, {where}; "
        f"{service.queries.audit_count()} audit events, chain verified"
    )


def check_scheduler(_ws: Workspace) -> str:
    """A one-off job (APScheduler's "date" trigger, found by name as "check now" uses it) runs on the
    scheduler's thread pool; the scheduler stops once it has also removed the finished job."""
    from apscheduler.events import EVENT_JOB_REMOVED
    from apscheduler.schedulers.background import BackgroundScheduler

    ran, removed = threading.Event(), threading.Event()
    scheduler = BackgroundScheduler()
    scheduler.add_listener(lambda _event: removed.set(), EVENT_JOB_REMOVED)
    scheduler.start()
    try:
        scheduler.add_job(ran.set, id="selftest")
        if not ran.wait(SCHEDULER_TIMEOUT_S) or not removed.wait(SCHEDULER_TIMEOUT_S):
            raise CheckError(f"a scheduled job did not run within {SCHEDULER_TIMEOUT_S:.0f} s")
    finally:
        scheduler.shutdown(wait=True)
    return "a one-off job ran on the scheduler's thread pool"


def check_logs(_ws: Workspace) -> str:
    """The log folder can be written."""
    from desktop.logging_setup import log_dir

    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".selftest-", delete=True):
            pass
    except OSError as exc:
        message = f"{folder} cannot be written ({exc}); the app runs without a log file"
        raise CheckWarningError(message) from exc
    return f"{folder} is writable"


Check = Callable[[Workspace], str]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("files", check_files),
    ("modules", check_modules),
    ("qt", check_qt),
    ("database", check_database),
    ("postgres driver", check_postgres_driver),
    ("keyring", check_keyring),
    ("classifier", check_classifier),
    ("pipeline", check_pipeline),
    ("scheduler", check_scheduler),
    ("logs", check_logs),
)


# --- running them -----------------------------------------------------------------------------------


def run_check(
    name: str, check: Check, ws: Workspace, *, verbose: bool = False, err: TextIO | None = None
) -> Result:
    """Run one check; any exception becomes a FAIL line (with the traceback on ``err`` when verbose)."""
    try:
        return Result(Outcome.OK, name, check(ws))
    except CheckWarningError as exc:
        return Result(Outcome.WARN, name, str(exc))
    except CheckError as exc:
        return Result(Outcome.FAIL, name, str(exc))
    except Exception as exc:  # noqa: BLE001 - an unexpected error is a failed check, said on its line
        if verbose and err is not None:
            traceback.print_exc(file=err)
        return Result(Outcome.FAIL, name, short_error(exc))


def short_error(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` on one line: the message's last non-empty line (where long explanations,
    such as NumPy's import error, put the actual cause), cut to ``limit`` characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[-1]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def workspace() -> Iterator[Workspace]:
    """A temporary folder for the checks, removed (with the database closed) afterwards."""
    root = Path(tempfile.mkdtemp(prefix="inbox-triage-selftest-"))
    ws = Workspace(root=root)
    try:
        yield ws
    finally:
        ws.close()
        shutil.rmtree(root, ignore_errors=True)


def run_selftest(
    out: TextIO | None = None,
    *,
    verbose: bool = False,
    checks: Sequence[tuple[str, Check]] = CHECKS,
) -> int:
    """Run the checks, print one line each and a summary; 0 when none failed, else 1."""
    from desktop.logging_setup import describe_runtime

    stream = out if out is not None else sys.stdout
    print(f"Inbox Triage self-test: {describe_runtime()}", file=stream, flush=True)
    results: list[Result] = []
    started = time.perf_counter()
    with workspace() as ws:
        for name, check in checks:
            result = run_check(name, check, ws, verbose=verbose, err=sys.stderr)
            results.append(result)
            print(result.line(), file=stream, flush=True)
    failed = sum(r.outcome is Outcome.FAIL for r in results)
    warned = sum(r.outcome is Outcome.WARN for r in results)
    took = time.perf_counter() - started
    if failed:
        summary = f"self-test FAILED: {failed} of {len(results)} checks failed ({took:.1f} s)"
        print(summary, file=stream, flush=True)
        return 1
    extra = f", {warned} warning(s)" if warned else ""
    print(f"self-test passed: {len(results)} checks{extra} ({took:.1f} s)", file=stream, flush=True)
    return 0


def main(args: Sequence[str]) -> int:
    """Entry from ``desktop.__main__``: ``--selftest [-v]`` or the internal Qt probe."""
    if args and args[0] == QT_PROBE_FLAG:
        if len(args) != 2:
            print(f"usage: {QT_PROBE_FLAG} REPORT_FILE", file=sys.stderr)
            return 2
        return qt_probe(Path(args[1]))
    verbose = any(a in ("-v", "--verbose") for a in args)
    return run_selftest(verbose=verbose)
