"""The Review tab end to end on a real demo profile: approve, edit, reject, reclassify, bulk, undo, J/K."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app.application import AppController
from desktop.app.views.review import ReviewTab
from engine.queries import AuditFilter
from tests.desktop.conftest import USER, AppFactory

pytestmark = pytest.mark.gui


def review_of(app: AppController) -> ReviewTab:
    assert app.review is not None
    return app.review


def open_item(qtbot, review: ReviewTab, row: int) -> int:
    with qtbot.waitSignal(review.detail_loaded, timeout=10_000) as blocker:
        review.select_rows([row])
    return int(blocker.args[0])


def outbox(app: AppController) -> list[Path]:
    assert app.ctx is not None
    return sorted(app.ctx.service.profile.outbox_dir.glob("*.eml"))


def audit(app: AppController, action: str, run_id: int):
    assert app.ctx is not None
    return app.ctx.service.queries.audit_events(AuditFilter(actions=(action,), run_id=str(run_id)))


def test_queue_lists_complaints_first_with_badges_and_waits(app: AppController) -> None:
    review = review_of(app)
    categories = [r.category for r in review.model.rows]
    complaints = [c for c in categories if c == "complaint"]
    assert complaints and categories[: len(complaints)] == complaints
    assert review.model.data(review.model.index(0, 0)) == "Complaint"
    assert review.model.data(review.model.index(0, 5))  # waited
    assert app.window.tabs.tabText(0) == f"Review ({len(categories)})"


def test_a_queue_longer_than_the_list_says_how_many_wait_in_all(
    app: AppController, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    review = review_of(app)
    assert app.ctx is not None
    total = app.ctx.service.queries.queue_count()
    complaints = app.ctx.service.queries.queue_count(category="complaint")
    monkeypatch.setattr("desktop.app.views.review.QUEUE_LIMIT", 3)
    with qtbot.waitSignal(review.queue_loaded, timeout=10_000):
        review.refresh()
    assert len(review.model.rows) == 3 < total
    assert review.count_label.text() == (f"{total} waiting · {complaints} complaints first · first 3 shown")
    assert app.window.tabs.tabText(0) == f"Review ({total})"


def test_approve_and_send_puts_the_reply_in_the_outbox_and_names_the_user(app: AppController, qtbot) -> None:
    review = review_of(app)
    run_id = open_item(qtbot, review, 0)
    detail = review.pane.detail
    assert detail is not None and detail.draft is not None
    with qtbot.waitSignal(review.tracker.sent, timeout=15_000) as sent:
        qtbot.mouseClick(review.pane.approve_button, Qt.MouseButton.LeftButton)
    assert sent.args[1].sent == [run_id]
    files = outbox(app)
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["Subject"] == detail.draft.subject
    approvals = audit(app, "review.approved", run_id)
    assert [e.actor for e in approvals] == [f"user:{USER}"]
    assert audit(app, "reply.sent", run_id)
    qtbot.waitUntil(lambda: run_id not in [r.run_id for r in review.model.rows], timeout=10_000)
    assert "sent" in review.banner.text


def test_edit_then_approve_with_ctrl_enter_sends_the_edited_reply(app: AppController, qtbot) -> None:
    review = review_of(app)
    run_id = open_item(qtbot, review, 1)
    editor = review.pane.editor
    editor.subject_edit.setText("Re: your wedding invitations")
    editor.body_edit.setPlainText("Dear Emma,\n\nThey were posted today by first class.\n\nAlice")
    editor.body_edit.setFocus()
    with qtbot.waitSignal(review.tracker.sent, timeout=15_000):
        qtbot.keyClick(editor.body_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    message = email.message_from_bytes(outbox(app)[0].read_bytes(), policy=policy.default)
    assert message["Subject"] == "Re: your wedding invitations"
    assert "posted today by first class" in message.get_content()
    edits = audit(app, "draft.edited", run_id)
    assert edits and edits[0].actor == f"user:{USER}"
    assert sorted(edits[0].detail["fields"]) == ["body", "subject"]


def test_reject_needs_a_reason_and_sends_nothing(app: AppController, qtbot) -> None:
    review = review_of(app)
    run_id = open_item(qtbot, review, 0)
    pane = review.pane
    qtbot.mouseClick(pane.reject_button, Qt.MouseButton.LeftButton)
    assert pane.reject_row.isVisible()
    qtbot.mouseClick(pane.reject_confirm, Qt.MouseButton.LeftButton)
    assert "reason" in pane.reject_error.text()
    qtbot.keyClicks(pane.reject_reason, "Answered by phone")
    with qtbot.waitSignal(review.queue_loaded, timeout=10_000):
        qtbot.keyClick(pane.reject_reason, Qt.Key.Key_Return)
    assert run_id not in [r.run_id for r in review.model.rows]
    assert app.ctx is not None
    run = app.ctx.service.queries.run(run_id)
    assert (run.state, run.outcome) == ("completed", "rejected")
    rejected = audit(app, "review.rejected", run_id)
    assert rejected[0].detail["reason"] == "Answered by phone"
    assert rejected[0].actor == f"user:{USER}"
    assert outbox(app) == []


def test_reclassify_changes_the_category_and_teaches_the_model(app: AppController, qtbot) -> None:
    review = review_of(app)
    run_id = open_item(qtbot, review, 0)
    action = next(a for a in review.pane.category_menu.actions() if a.data() == "enquiry")
    with qtbot.waitSignal(review.queue_loaded, timeout=15_000):
        action.trigger()
    assert app.ctx is not None
    assert app.ctx.service.queries.run(run_id).category == "enquiry"
    assert len(app.ctx.service.corrections()) == 1
    event = audit(app, "review.reclassified", run_id)[0]
    assert (event.detail["from"], event.detail["to"], event.actor) == ("complaint", "enquiry", f"user:{USER}")
    qtbot.waitUntil(lambda: review.selected_ids() == [run_id], timeout=10_000)


def test_bulk_approve_sends_every_selected_reply(app: AppController, qtbot) -> None:
    review = review_of(app)
    review.select_rows([0, 1, 2])
    assert review.pane.currentWidget() is review.pane.multi
    chosen = review.selected_ids()
    with qtbot.waitSignal(review.tracker.sent, timeout=20_000) as sent:
        qtbot.mouseClick(review.pane.approve_all_button, Qt.MouseButton.LeftButton)
    assert sorted(sent.args[1].sent) == sorted(chosen)
    assert len(outbox(app)) == 3


def test_undo_inside_the_window_returns_the_item_and_sends_nothing(
    make_app: AppFactory, demo_root: Path, qtbot
) -> None:
    app = make_app(demo_root, undo_s=60.0)
    review = review_of(app)
    qtbot.waitUntil(lambda: bool(review.model.rows), timeout=10_000)
    run_id = open_item(qtbot, review, 0)
    with qtbot.waitSignal(review.tracker.pending, timeout=10_000):
        review.approve_selected()
    assert review.undo_bar.isVisible()
    assert "sending in" in review.undo_bar.label.text()
    assert app.ctx is not None
    assert app.ctx.service.queries.run(run_id).state == "pending"
    with qtbot.waitSignal(review.tracker.undone, timeout=10_000) as undone:
        qtbot.mouseClick(review.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    assert undone.args[1] == {}
    assert app.ctx.service.queries.run(run_id).state == "waiting_review"
    assert audit(app, "review.approval_undone", run_id)
    assert outbox(app) == []
    assert not review.undo_bar.isVisible()


def test_the_reply_goes_out_only_after_the_undo_window(make_app: AppFactory, demo_root: Path, qtbot) -> None:
    app = make_app(demo_root, undo_s=1.0)
    review = review_of(app)
    qtbot.waitUntil(lambda: bool(review.model.rows), timeout=10_000)
    open_item(qtbot, review, 0)
    with qtbot.waitSignal(review.tracker.pending, timeout=10_000):
        review.approve_selected()
    assert outbox(app) == []
    with qtbot.waitSignal(review.tracker.sent, timeout=10_000):
        pass
    assert len(outbox(app)) == 1


def test_j_and_k_move_through_the_queue(app: AppController, qtbot) -> None:
    review = review_of(app)
    open_item(qtbot, review, 0)
    review.table.setFocus()
    with qtbot.waitSignal(review.detail_loaded, timeout=10_000):
        qtbot.keyClick(review.table, Qt.Key.Key_J)
    assert review.selected_ids() == [review.model.rows[1].run_id]
    with qtbot.waitSignal(review.detail_loaded, timeout=10_000):
        qtbot.keyClick(review.table, Qt.Key.Key_K)
    assert review.selected_ids() == [review.model.rows[0].run_id]
    body = review.pane.editor.body_edit
    body.setFocus()
    body.setPlainText("")
    qtbot.keyClick(body, Qt.Key.Key_J)
    assert review.selected_ids() == [review.model.rows[0].run_id]
    assert body.toPlainText() == "j"
