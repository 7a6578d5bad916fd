"""The Audit log tab: filters and search in SQL, a run timeline, Verify, Export and Purge."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.app.application import AppController
from engine.audit.export_verify import verify_export

pytestmark = pytest.mark.gui


def audit_tab(app: AppController, qtbot):
    tab = app.audit
    with qtbot.waitSignal(tab.counted, timeout=10_000):
        app.window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: bool(tab.model.rows) and not tab.model.loading, timeout=10_000)
    return tab


def reload(tab, qtbot, change) -> None:
    with qtbot.waitSignal(tab.model.page_loaded, timeout=10_000):
        change()
        tab.filters._timer.stop()
        tab.apply_filters()
    qtbot.waitUntil(lambda: not tab.model.loading, timeout=10_000)


def test_opens_on_the_newest_events_with_a_count(app: AppController, qtbot) -> None:
    tab = audit_tab(app, qtbot)
    seqs = [e.seq for e in tab.model.rows]
    assert seqs == sorted(seqs, reverse=True)
    assert tab.count_label.text() == f"{seqs[0]:,} events"


def test_filters_by_action_actor_run_email_and_text(app: AppController, qtbot) -> None:
    tab = audit_tab(app, qtbot)
    qtbot.waitUntil(lambda: tab.filters.action.count() > 5, timeout=10_000)
    reload(
        tab,
        qtbot,
        lambda: tab.filters.action.setCurrentIndex(tab.filters.action.findData("email.quarantined")),
    )
    assert len(tab.model.rows) == 4
    assert {e.action for e in tab.model.rows} == {"email.quarantined"}
    reload(tab, qtbot, lambda: tab.filters.clear(announce=False))
    reload(tab, qtbot, lambda: tab.filters.run.setText("10"))
    assert tab.model.rows and {e.run_id for e in tab.model.rows} == {"10"}
    reload(tab, qtbot, lambda: tab.filters.clear(announce=False))
    reload(tab, qtbot, lambda: tab.filters.email.setText("margaret.hollis@example.org"))
    assert tab.model.rows and {e.run_id for e in tab.model.rows} == {"10"}
    reload(tab, qtbot, lambda: tab.filters.clear(announce=False))
    reload(tab, qtbot, lambda: tab.filters.search.setText("unacceptable"))
    assert tab.model.rows == []
    reload(tab, qtbot, lambda: tab.filters.search.setText("QUARANTINED"))
    assert len(tab.model.rows) == 4
    assert {e.action for e in tab.model.rows} == {"email.quarantined"}
    reload(tab, qtbot, lambda: tab.filters.clear(announce=False))
    actor = tab.filters.actor.findData("user:Alice Smith")
    assert actor > 0
    reload(tab, qtbot, lambda: tab.filters.actor.setCurrentIndex(actor))
    assert tab.model.rows and {e.actor for e in tab.model.rows} == {"user:Alice Smith"}


def test_a_runs_timeline(app: AppController, qtbot) -> None:
    tab = audit_tab(app, qtbot)
    row = next(i for i, e in enumerate(tab.model.rows) if e.run_id)
    run_id = tab.model.rows[row].run_id
    tab.table.selectRow(row)
    qtbot.waitUntil(lambda: tab.detail.timeline.count() > 1, timeout=10_000)
    assert tab.detail.values["Hash"].text() == tab.model.rows[row].hash
    with qtbot.waitSignal(tab.model.page_loaded, timeout=10_000):
        tab.detail.timeline_button.click()
    assert {e.run_id for e in tab.model.rows} == {run_id}
    assert tab.filters.run.text() == run_id


def test_verify_an_intact_log_shows_the_head(app: AppController, qtbot) -> None:
    tab = audit_tab(app, qtbot)
    with qtbot.waitSignal(tab.verified, timeout=30_000) as verified:
        tab.verify_button.click()
    result = verified.args[0]
    assert result.ok
    assert tab.banner.kind == "ok"
    assert result.head_hash in tab.banner.text
    assert tab.banner.text.startswith(f"Intact: all {result.events:,} events verify")


def test_verify_a_tampered_log_names_the_first_broken_entry(
    app: AppController, demo_root: Path, qtbot
) -> None:
    tab = audit_tab(app, qtbot)
    with sqlite3.connect(demo_root / "inbox-triage.db") as conn:
        conn.execute("UPDATE audit_events SET outcome = 'approved' WHERE seq = 7")
    with qtbot.waitSignal(tab.verified, timeout=30_000) as verified:
        tab.verify()
    result = verified.args[0]
    assert not result.ok
    assert result.first_bad_seq == 7
    assert tab.banner.kind == "error"
    assert "First broken entry: event 7" in tab.banner.text
    with qtbot.waitSignal(tab.model.page_loaded, timeout=10_000):
        tab.banner.action.click()
    qtbot.waitUntil(lambda: tab.detail.current is not None, timeout=10_000)
    assert tab.model.rows[0].seq == 7
    assert tab.detail.current.seq == 7


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_writes_a_verifiable_signed_file(
    app: AppController, tmp_path: Path, qtbot, suffix: str
) -> None:
    tab = audit_tab(app, qtbot)
    target = tmp_path / f"log.{suffix}"
    tab.choose_export_path = lambda: (target, "")
    with qtbot.waitSignal(tab.exported, timeout=30_000) as exported:
        tab.export_button.click()
    result = exported.args[0]
    assert result.path == target
    assert result.signed
    assert str(target) in tab.banner.text
    check = verify_export(target)
    assert check.ok, check.problem
    assert check.count == result.events


def test_purge_asks_first_and_is_recorded(app: AppController, qtbot) -> None:
    tab = audit_tab(app, qtbot)
    asked: list[int] = []

    def refuse(days: int) -> bool:
        asked.append(days)
        return False

    tab.confirm_purge = refuse
    with qtbot.waitSignal(app.tasks.task_done, timeout=10_000):
        tab.purge_button.click()
    assert asked == [90]
    tab.confirm_purge = lambda days: True
    with qtbot.waitSignal(tab.purged, timeout=10_000) as purged:
        tab.purge_button.click()
    assert purged.args[0].messages == 0
    assert app.ctx is not None
    events = app.ctx.service.queries.audit_events(limit=5)
    assert any(e.action == "retention.purged" for e in events)
