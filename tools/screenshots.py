"""Screenshots of every main screen of the desktop app, on the demo profile, into docs/screenshots/.

Runs the real application (window, tabs, background tasks) on an X display: the one in $DISPLAY,
or a private Xvfb it starts itself. A fresh demo profile is triaged first, and a few decisions
are made through the engine (as "Alice Smith") so the Activity and Audit screens have something
to show.

Usage: python tools/screenshots.py [--out docs/screenshots] [--size 1280x800]
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def start_xvfb(size: str) -> subprocess.Popen[bytes]:
    """A private Xvfb; sets DISPLAY. Stop it with ``terminate()``."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
        pass_fds=[write_end],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], 10)
    number = os.read(read_end, 32).decode().strip() if ready else ""
    os.close(read_end)
    if not number:
        process.terminate()
        raise SystemExit("Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    return process


def prepare_profile(root: Path) -> None:
    """A demo profile, triaged, with a few human decisions in its history."""
    from dataclasses import replace

    from desktop.wiring import create_demo_profile, open_service

    create_demo_profile(root)
    service = open_service(root)
    try:
        office = service.settings.office()
        service.settings.save_office(replace(office, user_name="Alice Smith"), actor="Alice Smith")
        service.poll()
        queue = service.queries.queue(limit=100)
        orders = [r for r in queue if r.category in ("order", "enquiry")][:2]
        for item in orders:
            service.approve(item.run_id)
        others = [r for r in queue if r.category == "other"][:1]
        for item in others:
            service.reject(item.run_id, reason="Answered by phone")
        service.process()
    finally:
        service.close()


def wait(app: object, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Process events until ``condition()`` holds."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the app")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def settle(app: object, seconds: float = 0.4) -> None:
    """Let pending work land and the window repaint."""
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def shoot(controller: object, out: Path, name: str) -> Path:
    """Save the window as ``out/name.png``."""
    from desktop.app.application import AppController

    assert isinstance(controller, AppController)
    path = out / f"{name}.png"
    controller.window.grab().save(str(path))
    print(f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return path


def run(out: Path, width: int, height: int) -> None:
    """Take every screenshot."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import style
    from desktop.app.application import AppController, AppOptions

    app = QApplication.instance() or QApplication(["inbox-triage"])
    assert isinstance(app, QApplication)
    style.apply(app)
    with tempfile.TemporaryDirectory(prefix="inbox-triage-shots-") as tmp:
        empty = Path(tmp) / "office"
        welcome = AppController(AppOptions(profile_root=empty, poll=False, tray=False))
        welcome.window.resize(width, height)
        welcome.start()
        wait(app, lambda: welcome.ctx is not None)
        settle(app)
        shoot(welcome, out, "00-welcome")
        welcome.quit()

        root = Path(tmp) / "demo"
        prepare_profile(root)
        controller = AppController(AppOptions(profile_root=root, poll=True, tray=False))
        controller.window.resize(width, height)
        controller.start()
        wait(app, lambda: controller.review is not None and controller.review.model.rows != [])
        review = controller.review
        assert review is not None
        loaded: list[int] = []
        review.detail_loaded.connect(loaded.append)
        review.select_rows([0])
        wait(app, lambda: bool(loaded))
        settle(app)
        shoot(controller, out, "01-review")
        review.select_rows([3, 4, 5])
        settle(app)
        shoot(controller, out, "02-review-bulk")

        tabs = controller.window.tabs
        tabs.setCurrentWidget(controller.activity)
        wait(app, lambda: bool(controller.activity.model.rows))
        shown: list[int] = []
        controller.activity.detail_loaded.connect(shown.append)
        quarantined = [i for i, r in enumerate(controller.activity.model.rows) if r.state == "quarantined"]
        controller.activity.table.selectRow(quarantined[0] if quarantined else 0)
        wait(app, lambda: bool(shown))
        settle(app)
        shoot(controller, out, "03-activity")

        tabs.setCurrentWidget(controller.audit)
        wait(app, lambda: bool(controller.audit.model.rows))
        rows = controller.audit.model.rows
        human = [i for i, e in enumerate(rows) if e.actor.startswith("user:") and e.run_id]
        controller.audit.table.selectRow(human[0] if human else 0)
        verified: list[object] = []
        controller.audit.verified.connect(verified.append)
        controller.audit.verify()
        wait(app, lambda: bool(verified))
        settle(app, 0.8)
        shoot(controller, out, "04-audit")

        tabs.setCurrentWidget(controller.contacts)
        wait(app, lambda: bool(controller.contacts.model.rows))
        got: list[int] = []
        controller.contacts.activities_loaded.connect(got.append)
        controller.contacts.table.selectRow(0)
        wait(app, lambda: bool(got))
        settle(app)
        shoot(controller, out, "05-contacts")

        settings = controller.settings_tab
        tabs.setCurrentWidget(settings)
        wait(app, lambda: settings.data is not None)
        pages = ("office", "connections", "policies", "schedule", "privacy")
        for number, key in enumerate(pages, start=6):
            settings.show_page(key)
            settle(app)
            shoot(controller, out, f"{number:02d}-settings-{key}")
        if controller.poller is not None:
            controller.poller.shutdown()  # the example servers below do not exist
        configure_connections(controller.ctx.service)
        loaded: list[object] = []
        settings.loaded.connect(lambda: loaded.append(True))
        settings.refresh()
        wait(app, lambda: bool(loaded))
        connector_pages = ("mail_accounts", "ai_providers", "crm")
        for number, key in enumerate(connector_pages, start=11):
            settings.show_page(key)
            settle(app, 0.8)
            shoot(controller, out, f"{number:02d}-settings-{key.replace('_', '-')}")
        controller.quit()


def configure_connections(service: object) -> None:
    """Example accounts, providers and a webhook CRM for the connector pages (nothing is contacted)."""
    from connectors.accounts import AccountBook, ImapAccount, SmtpAccount
    from connectors.ai_book import ProviderBook
    from connectors.crm.book import CrmBook
    from connectors.crm.settings import CrmSettings
    from desktop.app.secrets import secret_store
    from desktop.wiring import reconnect
    from engine.ai.settings import with_defaults

    secrets = secret_store(service)  # type: ignore[arg-type]
    store = service.settings  # type: ignore[attr-defined]
    accounts = AccountBook(store, secrets)
    accounts.add(
        ImapAccount(name="office", host="imap.thornburywebb.co.uk", username="hello@thornburywebb.co.uk")
    )
    accounts.add(
        SmtpAccount(
            name="outgoing",
            host="smtp.thornburywebb.co.uk",
            sent_account="office",
            username="hello@thornburywebb.co.uk",
        )
    )
    providers = ProviderBook(store, secrets)
    providers.add(
        with_defaults("openai", "openai", model="gpt-4o-mini"),
        api_key="sk-example",
        steps=("classify", "draft"),
    )
    providers.add(
        with_defaults(
            "openai", "ollama", base_url="http://localhost:11434/v1", model="llama3.1", needs_api_key=False
        ),
        steps=("draft",),
    )
    CrmBook(store, secrets).connect(
        CrmSettings(kind="webhook", name="zapier", base_url="https://hooks.zapier.com/hooks/catch/123/abc/"),
        secret="example-secret",
    )
    reconnect(service)  # type: ignore[arg-type]


def use_memory_keyring_if_none() -> None:
    """Screenshots only: without a secure keyring (a bare Xvfb session), keep example secrets in memory."""
    import keyring
    import keyring.backend

    from connectors.secrets import secure_backend

    if secure_backend() is not None:
        return

    class Memory(keyring.backend.KeyringBackend):
        priority = 1.0  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.values: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.values.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.values[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.values.pop((service, username), None)

    keyring.set_keyring(Memory())


def main() -> None:
    """Parse arguments, make sure there is a display, take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    xvfb = None if os.environ.get("DISPLAY") else start_xvfb(args.size)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    use_memory_keyring_if_none()
    try:
        run(args.out, width, height)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)


if __name__ == "__main__":
    main()
