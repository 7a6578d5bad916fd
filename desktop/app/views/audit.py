"""The Audit log tab: every event, filtered and searched in SQL, verified, exported and purged.

The table is an :class:`desktop.app.models.audit.AuditModel` (keyset pages fetched on workers),
so it opens instantly on a million events. Verify, Export and Purge run on workers too; their
results appear in the banner above the table.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.app import audit_actions
from desktop.app.context import AUDIT, QUEUE, RUNS, AppContext
from desktop.app.models.audit import AuditModel
from desktop.app.models.base import ROW_ROLE
from desktop.app.style import MARGIN, SPACING, set_role
from desktop.app.views.audit_detail import AuditEventPanel
from desktop.app.views.audit_filters import AuditFilterBar
from desktop.app.widgets.banner import Banner
from desktop.app.widgets.table import make_table
from engine.audit.event import AuditEvent
from engine.audit.retention import PurgeRecord
from engine.queries import AuditFilter


class AuditTab(QWidget):
    """Filters, the event table, the selected event with its run's timeline, and the log's tools.

    Signals for tests and the controller: ``counted(int)`` when the number of matching events is
    known, ``verified(object)``, ``exported(object)``, ``purged(object)``.
    """

    kinds = frozenset({AUDIT})
    counted = Signal(int)
    verified = Signal(object)
    exported = Signal(object)
    purged = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = AuditModel(ctx, self)
        self._count_token = 0
        self._timeline_token = 0
        self._choices_loaded = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.setSpacing(SPACING)
        layout.addLayout(self._toolbar())
        self.banner = Banner(self)
        self.banner.setObjectName("auditBanner")
        layout.addWidget(self.banner)
        self.filters = AuditFilterBar(self)
        layout.addWidget(self.filters)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("auditSplitter")
        splitter.setChildrenCollapsible(False)
        self.table = make_table(self.model, name="auditTable")
        splitter.addWidget(self.table)
        self.detail = AuditEventPanel(splitter)
        splitter.addWidget(self.detail)
        splitter.setSizes([470, 230])
        layout.addWidget(splitter, 1)
        self._connect()

    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Audit log", self)
        set_role(title, "heading")
        row.addWidget(title)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("auditCount")
        set_role(self.count_label, "muted")
        row.addWidget(self.count_label)
        row.addStretch(1)
        self.verify_button = QPushButton("Verify", self)
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.setToolTip("Recompute every hash and check the signed anchors")
        row.addWidget(self.verify_button)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip(
            "Write the log (or the chosen dates) as CSV or JSON Lines, with its signed head"
        )
        row.addWidget(self.export_button)
        self.purge_button = QPushButton("Purge old content…", self)
        self.purge_button.setObjectName("purgeButton")
        self.purge_button.setToolTip("Delete message content older than the retention period; the log stays")
        row.addWidget(self.purge_button)
        return row

    def _connect(self) -> None:
        self.filters.changed.connect(self.apply_filters)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.detail.timeline_requested.connect(self.filters.show_run)
        self.verify_button.clicked.connect(self.verify)
        self.export_button.clicked.connect(self.export)
        self.purge_button.clicked.connect(self.purge)
        self.model.search_progress.connect(self._search_progress)
        self.model.load_failed.connect(lambda message: self.banner.show_message(message, "error"))

    # --- data ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload from the newest event with the current filters."""
        if not self._choices_loaded:
            self._load_choices()
        self.apply_filters()

    def _load_choices(self) -> None:
        self._choices_loaded = True
        self.ctx.call(
            "Reading the audit log's actions",
            lambda s: (s.queries.audit_actions(), s.queries.audit_actors()),
            done=lambda pair: self.filters.set_choices(*pair),
        )

    def apply_filters(self, *, start_at_seq: int | None = None) -> None:
        """Run the query the filter bar describes (and count its matches in the background)."""
        filters = self.filters.filters()
        self.detail.show_event(None)
        self.model.set_filter(filters, start_at_seq=start_at_seq)
        self._count(filters)

    def _count(self, filters: AuditFilter) -> None:
        self._count_token += 1
        token = self._count_token
        self.count_label.setText("counting…")
        self.ctx.call(
            "Counting audit events",
            lambda s: s.queries.audit_count(filters),
            done=lambda n: self._counted(token, n, filters),
        )

    def _counted(self, token: int, count: int, filters: AuditFilter) -> None:
        if token != self._count_token:
            return
        narrowed = filters != AuditFilter()
        noun = "event" if count == 1 else "events"
        self.count_label.setText(f"{count:,} {'matching ' if narrowed else ''}{noun}")
        self.counted.emit(count)

    def _search_progress(self, scanned_to: int, finished: bool) -> None:
        if finished:
            return
        self.count_label.setText(f"searching… (at event {scanned_to:,})")

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = current.data(ROW_ROLE) if current.isValid() else None
        self.detail.show_event(event if isinstance(event, AuditEvent) else None)
        if isinstance(event, AuditEvent) and event.run_id:
            self._timeline_token += 1
            token = self._timeline_token
            run_id = event.run_id
            self.ctx.call(
                "Reading the run's timeline",
                lambda s: s.queries.audit_events(AuditFilter(run_id=run_id), limit=500, newest_first=False),
                done=lambda events: self._timeline(token, run_id, events),
            )

    def _timeline(self, token: int, run_id: str, events: list[AuditEvent]) -> None:
        if token == self._timeline_token:
            self.detail.show_timeline(run_id, events)

    def show_event(self, seq: int) -> None:
        """Clear the filters and list the log from event ``seq`` downwards, selecting it."""
        self.filters.clear(announce=False)
        self.apply_filters(start_at_seq=seq)

        def select_first(_rows: int) -> None:
            self.model.page_loaded.disconnect(select_first)
            if self.model.rows:
                self.table.selectRow(0)

        self.model.page_loaded.connect(select_first)

    # --- tools --------------------------------------------------------------------------------

    def verify(self) -> None:
        """Recompute the chain on a worker and report the head or the first broken event."""
        self.verify_button.setEnabled(False)
        self.banner.show_message("Verifying every event… this takes a few seconds for a large log.", "info")

        def done(result: audit_actions.VerifyOutcome) -> None:
            self.verify_button.setEnabled(True)
            self._show_verification(result)
            self.verified.emit(result)

        def failed(exc: BaseException) -> None:
            self.verify_button.setEnabled(True)
            self.banner.show_message(f"Verification could not run: {exc}", "error")

        self.ctx.call("Verify", audit_actions.verify_log, done=done, error=failed)

    def _show_verification(self, result: audit_actions.VerifyOutcome) -> None:
        if result.ok:
            head = (
                f"head event {result.head_seq}, hash {result.head_hash}" if result.head_seq else "empty log"
            )
            anchors = f"; {result.anchors_checked} signed anchor(s) checked" if result.anchors_checked else ""
            self.banner.show_message(f"Intact: all {result.events:,} events verify ({head}){anchors}.", "ok")
            return
        bad = result.first_bad_seq
        message = f"The log does not verify. First broken entry: event {bad}. {result.problem}"
        if bad is None:
            self.banner.show_message(f"The log does not verify: {result.problem}", "error")
        else:
            self.banner.show_message(
                message, "error", action=f"Show event {bad}", on_action=lambda: self.show_event(bad)
            )

    def choose_export_path(self) -> tuple[Path, str] | None:
        """Ask where to export (a file dialog); None when cancelled. Tests replace this."""
        folder = self.ctx.service.profile.exports_dir
        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Export the audit log",
            str(folder / "audit-log.jsonl"),
            "JSON Lines (*.jsonl);;CSV (*.csv)",
        )
        return (Path(path), chosen) if path else None

    def export(self) -> None:
        """Export the log (the chosen dates only, when set)."""
        choice = self.choose_export_path()
        if choice is None:
            return
        path, chosen_filter = choice
        fmt = audit_actions.export_format_for(path, chosen_filter)
        filters = self.filters.filters()
        self.banner.show_message(f"Exporting to {path}…", "info")

        def done(result: audit_actions.ExportResult) -> None:
            signed = "signed with the office key" if result.signed else "not signed"
            text = (
                f"Exported {result.events:,} events to {result.path} ({signed}); "
                f"head event {result.head_seq}, hash {result.head_hash}."
            )
            if result.warning:
                text += f" Note: {result.warning}."
            self.banner.show_message(text, "ok" if result.signed else "warning")
            self.exported.emit(result)

        self.ctx.call(
            "Export",
            lambda s: audit_actions.export_log(s, path, fmt, since=filters.since, until=filters.until),
            done=done,
            changes=(AUDIT,),
        )

    def confirm_purge(self, days: int) -> bool:
        """Ask before purging. Tests replace this."""
        answer = QMessageBox.question(
            self,
            "Purge old message content",
            f"Delete the content of every finished email older than {days} days?\n\n"
            "Subjects, bodies, drafts and attachments go. The audit log, categories and CRM entries "
            "stay, and the purge itself is recorded. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def purge(self) -> None:
        """Apply the retention period after confirmation."""
        self.ctx.call(
            "Reading the retention period", lambda s: s.settings.retention().days, done=self._purge_confirm
        )

    def _purge_confirm(self, days: int) -> None:
        if not self.confirm_purge(days):
            return

        def done(record: PurgeRecord) -> None:
            self.banner.show_message(
                f"Deleted the content of {record.messages} email(s) older than {record.retention_days} days. "
                "The audit log keeps its record of them.",
                "ok",
            )
            self.purged.emit(record)

        self.ctx.call("Purge", audit_actions.purge_content, done=done, changes=(AUDIT, QUEUE, RUNS))
