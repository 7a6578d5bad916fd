"""Starting the desktop app: one QApplication, one instance per profile, the window first.

Only Qt and the few modules the first window needs are imported before it paints; the engine
(SQLAlchemy, Alembic, NumPy) is imported and the profile opened on a worker thread.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

#: When set, the app writes the time of its first paint to this file (the start-up benchmark).
STARTUP_MARK_ENV = "INBOX_TRIAGE_STARTUP_MARK"


def run_app(profile: str | None, *, demo: bool = False, argv: list[str] | None = None) -> int:
    """Open the window on the profile (or a fresh demo profile); return the exit code."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import style
    from desktop.app.application import AppController, AppOptions
    from desktop.app.single_instance import claim_or_activate
    from engine.profile import resolve_profile_dir

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Inbox Triage")
    app.setOrganizationName("Inbox Triage")
    app.setQuitOnLastWindowClosed(False)
    style.apply(app)
    if demo and not profile:
        root = Path(tempfile.mkdtemp(prefix="inbox-triage-demo-"))
    else:
        root = resolve_profile_dir(profile)
    instance = claim_or_activate(root)
    if instance is None:
        print(f"Inbox Triage is already open on {root}; it has been brought to the front.")
        return 0
    mark = os.environ.get(STARTUP_MARK_ENV)
    options = AppOptions(profile_root=root, demo=demo, startup_mark=Path(mark) if mark else None)
    controller = AppController(options, instance=instance)
    # Uncaught errors are logged and shown once by desktop.crash_handler (installed by the entry point).
    controller.start()
    return int(app.exec())
