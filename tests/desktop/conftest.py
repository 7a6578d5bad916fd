"""Fixtures for desktop tests: a triaged demo profile (built once, copied per test) and the app on it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.app.application import AppController, AppOptions

USER = "Alice Smith"


@pytest.fixture(scope="session")
def triaged_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo profile, triaged once per session, with "Alice Smith" as the desk's user."""
    from desktop.wiring import create_demo_profile, open_service

    root = tmp_path_factory.mktemp("template") / "demo"
    create_demo_profile(root)
    service = open_service(root)
    try:
        office = service.settings.office()
        service.settings.save_office(replace(office, user_name=USER), actor=USER)
        service.poll()
    finally:
        service.close()
    return root


@pytest.fixture
def demo_root(triaged_demo: Path, tmp_path: Path) -> Path:
    """A private copy of the triaged demo profile."""
    root = tmp_path / "demo"
    shutil.copytree(triaged_demo, root)
    return root


AppFactory = Callable[..., AppController]


@pytest.fixture
def make_app(qtbot: object, memory_keyring: object) -> Iterator[AppFactory]:
    """Start the app on a profile and wait until it is ready; shut every one down afterwards."""
    started: list[AppController] = []

    def start(root: Path, **options: object) -> AppController:
        settings: dict[str, object] = {"poll": False, "tray": False, "undo_s": 0.0}
        settings.update(options)
        controller = AppController(AppOptions(profile_root=root, **settings))  # type: ignore[arg-type]
        started.append(controller)
        with qtbot.waitSignal(controller.ready, timeout=30_000):  # type: ignore[attr-defined]
            controller.start()
        controller.window.activateWindow()
        qtbot.waitUntil(controller.window.isActiveWindow, timeout=5_000)  # type: ignore[attr-defined]
        return controller

    yield start
    for controller in started:
        controller.shutdown()
        controller.window.deleteLater()


@pytest.fixture
def app(make_app: AppFactory, demo_root: Path, qtbot: object) -> AppController:
    """The app on a fresh copy of the triaged demo profile, with the queue loaded."""
    controller = make_app(demo_root)
    review = controller.review
    assert review is not None
    qtbot.waitUntil(lambda: len(review.model.rows) > 0, timeout=10_000)  # type: ignore[attr-defined]
    return controller
