"""Settings → Policies: per category, review first, send automatically when sure, or no reply; templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from desktop.app import format as fmt
from desktop.app.settings.framework import SettingsData, SettingsPage
from desktop.app.style import set_role
from desktop.app.widgets.badge import CategoryBadge
from engine.categories import ALL_CATEGORIES, NO_REPLY_CATEGORIES
from engine.errors import ConfigurationError
from engine.settings import Policy, parse_policy_mode

if TYPE_CHECKING:
    from engine.service import TriageService

MODES = (
    ("review", "Review before sending"),
    ("auto_send", "Send automatically when sure"),
    ("no_reply", "No reply (label and close)"),
)


@dataclass
class _Row:
    mode: QComboBox
    threshold: QLineEdit
    template_button: QPushButton | None


class PoliciesPage(SettingsPage):
    """One row per category, and the reply template of the chosen category."""

    key = "policies"
    title = "Policies"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro(
            "What happens after an email is sorted. Nothing is sent without review unless you allow it "
            "here; flagged drafts (odd links, possible AI instructions) always wait for review."
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        for column, text in enumerate(("Category", "What happens", "Auto-send if confidence ≥", "Reply")):
            header = QLabel(text, self)
            set_role(header, "muted")
            grid.addWidget(header, 0, column)
        self.rows: dict[str, _Row] = {}
        for line, category in enumerate(ALL_CATEGORIES, start=1):
            self.rows[category] = self._row(grid, line, category)
        grid.setColumnStretch(4, 1)
        self.outer.addLayout(grid)
        self.template_title = QLabel(self)
        set_role(self.template_title, "subheading")
        self.outer.addWidget(self.template_title)
        self.template_hint = QLabel(
            "Placeholders: $sender_name, $subject, $reference, $office_name, $signature. "
            "Write $$ for a dollar sign.",
            self,
        )
        self.template_hint.setWordWrap(True)
        set_role(self.template_hint, "muted")
        self.outer.addWidget(self.template_hint)
        self.template = QPlainTextEdit(self)
        self.template.setObjectName("templateText")
        self.outer.addWidget(self.template, 1)
        self.templates: dict[str, str] = {}
        self.defaults: dict[str, str] = {}
        self.policies: dict[str, Policy] = {}
        self.template_category = ""
        self.template.textChanged.connect(self._template_edited)

    def _row(self, grid: QGridLayout, line: int, category: str) -> _Row:
        badge = CategoryBadge(self)
        badge.set_category(category)
        grid.addWidget(badge, line, 0, Qt.AlignmentFlag.AlignLeft)
        mode = QComboBox(self)
        mode.setObjectName(f"mode_{category}")
        for value, label in MODES:
            mode.addItem(label, value)
        threshold = QLineEdit(self)
        threshold.setObjectName(f"threshold_{category}")
        threshold.setMaximumWidth(70)
        grid.addWidget(mode, line, 1)
        grid.addWidget(threshold, line, 2)
        button: QPushButton | None = None
        if category in NO_REPLY_CATEGORIES:
            mode.setCurrentIndex(2)
            mode.setEnabled(False)
            threshold.setEnabled(False)
            note = QLabel("never answered", self)
            set_role(note, "muted")
            grid.addWidget(note, line, 3)
        else:
            button = QPushButton("Edit template", self)
            button.clicked.connect(lambda _c=False, c=category: self.edit_template(c))
            grid.addWidget(button, line, 3)
            mode.currentIndexChanged.connect(lambda _i, c=category: self._mode_changed(c))
        return _Row(mode, threshold, button)

    def _mode_changed(self, category: str) -> None:
        row = self.rows[category]
        row.threshold.setEnabled(row.mode.currentData() == "auto_send")

    def load(self, data: SettingsData) -> None:
        """Fill every row and the first template."""
        self.policies = dict(data.policies)
        self.defaults = dict(data.default_templates)
        self.templates = {}
        for category, row in self.rows.items():
            policy = data.policies.get(category, Policy(category=category))
            row.mode.setCurrentIndex(max(0, row.mode.findData(policy.mode)))
            row.threshold.setText(f"{policy.threshold:.2f}")
            if row.template_button is not None:
                self._mode_changed(category)
            if category in self.defaults:
                self.templates[category] = policy.template or self.defaults[category]
        self.edit_template(self.template_category or "complaint")

    def edit_template(self, category: str) -> None:
        """Show ``category``'s template in the editor."""
        self.template_category = category
        self.template_title.setText(f"Reply template: {fmt.category_label(category)}")
        self.template.blockSignals(True)
        self.template.setPlainText(self.templates.get(category, ""))
        self.template.blockSignals(False)

    def _template_edited(self) -> None:
        if self.template_category:
            self.templates[self.template_category] = self.template.toPlainText()

    def validate(self) -> list[Policy]:
        """Every policy that changed, checked by the engine's rules (templates included)."""
        from engine.drafting.templates import check_template

        changed: list[Policy] = []
        for category, row in self.rows.items():
            try:
                threshold = float(row.threshold.text().strip().replace(",", "."))
            except ValueError as exc:
                raise ConfigurationError(
                    f"Policy for {category}: the confidence threshold must be a number between 0 and 1."
                ) from exc
            text = self.templates.get(category)
            template = (
                None if text is None or text.strip() == self.defaults.get(category, "").strip() else text
            )
            if template is not None:
                check_template(category, template)
            policy = Policy(
                category=category,
                mode=parse_policy_mode(str(row.mode.currentData())),
                threshold=threshold,
                template=template,
            ).validate()
            if policy != self.policies.get(category):
                changed.append(policy)
        return changed

    def save(self, service: TriageService, value: list[Policy]) -> None:
        """Store the changed policies."""
        for policy in value:
            service.settings.save_policy(policy, actor=service.actor())

    def field_for(self, message: str) -> QWidget | None:
        """Which input a validation message names."""
        for category, row in self.rows.items():
            if f"for {category}:" in message or f"The {category} template" in message:
                if "template" in message:
                    self.edit_template(category)
                    return self.template
                return row.threshold
        return None
