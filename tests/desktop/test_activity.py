"""The Activity tab: a run that fails for real shows its error in plain words and can be retried."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from desktop.app.application import AppController

pytestmark = pytest.mark.gui


def test_a_failed_send_is_explained_and_retried_after_the_fix(app: AppController, qtbot) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    office = service.settings.office()
    service.settings.save_office(replace(office, reply_from=""), actor="test")
    review = app.review
    assert review is not None
    with qtbot.waitSignal(review.detail_loaded, timeout=10_000) as opened:
        review.select_rows([0])
    run_id = opened.args[0]
    with qtbot.waitSignal(review.tracker.sent, timeout=15_000) as sent:
        review.approve_selected()
    outcome = sent.args[1]
    assert list(outcome.failed) == [run_id]
    assert "reply-from address" in review.banner.text
    assert service.queries.run(run_id).state == "failed"

    activity = app.activity
    with qtbot.waitSignal(activity.detail_loaded, timeout=10_000):
        review.banner.action.click()
    assert app.window.tabs.currentWidget() is activity
    panel = activity.detail
    assert panel.retry_button.isVisible()
    assert panel.status.text().startswith("Failed")
    assert "while sending the reply" in panel.status.text()
    assert "Settings → Office: set the reply-from address" in panel.status.text()
    qtbot.waitUntil(lambda: any(r.run_id == run_id for r in activity.model.rows), timeout=10_000)
    row = next(r for r in activity.model.rows if r.run_id == run_id)
    details = activity.model.data(activity.model.index(activity.model.rows.index(row), 6))
    assert details.startswith("It could not be done: Settings → Office")

    service.settings.save_office(office, actor="test")
    with qtbot.waitSignal(activity.detail_loaded, timeout=15_000):
        qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    run = service.queries.run(run_id)
    assert (run.state, run.outcome) == ("completed", "sent")
    assert len(list(service.profile.outbox_dir.glob("*.eml"))) == 1
    assert "Retried" in activity.banner.text
    assert not panel.retry_button.isVisible()


def test_state_filter_and_quarantine_reason(app: AppController, qtbot) -> None:
    activity = app.activity
    app.window.tabs.setCurrentWidget(activity)
    with qtbot.waitSignal(activity.model.page_loaded, timeout=10_000):
        activity.set_state_filter(("quarantined",))
    rows = activity.model.rows
    assert rows and all(r.state == "quarantined" for r in rows)
    text = activity.model.data(activity.model.index(0, 6))
    assert text.startswith("Quarantined: ")
    with qtbot.waitSignal(activity.model.page_loaded, timeout=10_000):
        activity.set_state_filter(())
    assert len(activity.model.rows) == 52
