"""Settings → AI providers: add and edit providers, choose which classify and which draft, in order.

The page edits the ``ai_providers`` section through :class:`connectors.ai_book.ProviderBook`: the
provider form is validated as a whole before anything is stored; the API key goes to the keyring
only (:class:`SecretField`); moving a provider up or down a chain is stored at once. Token use
today and whether a key is stored are read on a worker. After every change the running engine is
handed fresh connectors (:func:`desktop.wiring.reconnect`), so the next email uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from connectors.ai_book import SECTION, STEPS, ProviderBook
from desktop.app.settings.fields import SecretField
from desktop.app.settings.framework import SettingsData, SettingsPage
from desktop.app.settings.pages.mail_accounts import secret_note, with_note
from desktop.app.settings.registry import register
from desktop.app.style import set_role
from engine.ai.settings import (
    DEFAULT_BASE_URLS,
    AiSettings,
    ProviderSettings,
    ai_settings_from_json,
    provider_secret_name,
    with_defaults,
)
from engine.errors import ConfigurationError

if TYPE_CHECKING:
    from engine.service import TriageService

KINDS = (("openai", "OpenAI-compatible (OpenAI, Azure, Mistral, Groq, Ollama…)"), ("anthropic", "Anthropic"))
STEP_TITLES = {"classify": "Classification order", "draft": "Drafting order"}
REDACTION_NOTE = (
    "On: names, email addresses, phone numbers, postcodes, NI and NHS numbers, card and bank details are "
    "replaced by placeholders before any text leaves this computer, and put back in the draft here. "
    "Turn it off only for a server you run yourself."
)
FALLBACK_NOTE = (
    "Providers are tried in order; when none answers, the offline classifier and the reply templates "
    "are used, so email keeps being sorted and answered when every provider is down."
)


@dataclass(frozen=True)
class ProviderFacts:
    """What the list shows besides the settings: key stored, and today's requests and tokens."""

    has_key: dict[str, bool]
    requests: dict[str, int]
    tokens: dict[str, int]


def read_facts(service: TriageService, names: list[str]) -> ProviderFacts:
    """Keys and today's token use (on a worker: the keyring and the database are read)."""
    from desktop.app.secrets import secret_store
    from engine.storage.token_usage import DatabaseTokenUsageLedger

    book = ProviderBook(service.settings, secret_store(service))
    usage = {u.provider: u for u in DatabaseTokenUsageLedger(service.db).usage(date.today())}
    return ProviderFacts(
        has_key={n: book.has_api_key(n) for n in names},
        requests={n: usage[n].requests if n in usage else 0 for n in names},
        tokens={n: usage[n].total_tokens if n in usage else 0 for n in names},
    )


class ChainEditor(QWidget):
    """One step's chain: the providers in order, with Up and Down."""

    move_requested = Signal(str, str, int)

    def __init__(self, step: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(STEP_TITLES[step], self)
        set_role(title, "muted")
        layout.addWidget(title)
        self.list = QListWidget(self)
        self.list.setObjectName(f"chain_{step}")
        self.list.setMaximumHeight(64)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.up = QPushButton("Move up", self)
        self.down = QPushButton("Move down", self)
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(1))
        row.addWidget(self.up)
        row.addWidget(self.down)
        row.addStretch(1)
        layout.addLayout(row)

    def show_chain(self, names: tuple[str, ...]) -> None:
        """List the chain, then the offline fallback (which is always last)."""
        self.list.clear()
        for position, name in enumerate(names, start=1):
            self.list.addItem(f"{position}. {name}")
        self.list.addItem(
            f"{len(names) + 1}. offline {'classifier' if self.step == 'classify' else 'templates'}"
        )
        self.names = names

    def _move(self, offset: int) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.names):
            self.move_requested.emit(self.step, self.names[row], offset)


class AiProvidersPage(SettingsPage):
    """The providers, an editor for the selected (or new) one, and the two chains."""

    key = "ai_providers"
    title = "AI providers"
    section_keys = (SECTION,)
    #: The text of the last "Test connection" result (tests wait on it).
    result_shown = Signal(str)
    #: Emitted after a chain move was stored and the engine reconnected.
    chain_saved = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro("Optional: an outside AI model can sort emails and draft replies. " + FALLBACK_NOTE)
        self.ai = AiSettings()
        self.facts = ProviderFacts({}, {}, {})
        self.original: ProviderSettings | None = None
        self._select = ""
        self.list = QListWidget(self)
        self.list.setObjectName("providersList")
        self.list.setMaximumHeight(70)
        self.list.currentRowChanged.connect(self._selected)
        self.outer.addWidget(self.list)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add provider…", self)
        self.add_button.clicked.connect(self.start_new)
        row.addWidget(self.add_button)
        row.addStretch(1)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.setProperty("danger", True)
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.remove_button)
        self.outer.addLayout(row)
        chains = QGridLayout()
        chains.setHorizontalSpacing(18)
        self.chains = {step: ChainEditor(step, self) for step in STEPS}
        for column, editor in enumerate(self.chains.values()):
            editor.move_requested.connect(self.move_in_chain)
            chains.addWidget(editor, 0, column)
        heading = QLabel("Which providers are used, in order", self)
        set_role(heading, "subheading")
        self.outer.addSpacing(6)
        self.outer.addWidget(heading)
        self.outer.addLayout(chains)
        self.editing_title = QLabel(self)
        set_role(self.editing_title, "subheading")
        self.outer.addSpacing(6)
        self.outer.addWidget(self.editing_title)
        self._build_form()
        self.outer.addStretch(1)
        self.confirm = self._ask

    def _build_form(self) -> None:
        form = self.form()
        self.name = QLineEdit(self)
        self.name.setObjectName("providerName")
        self.name.setPlaceholderText("a short name, e.g. openai (shown in the audit log)")
        form.addRow("Name", self.name)
        self.kind = QComboBox(self)
        self.kind.setObjectName("providerKind")
        for value, label in KINDS:
            self.kind.addItem(label, value)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.kind.setMaximumWidth(420)
        form.addRow("Type", self.kind)
        self.base_url = QLineEdit(self)
        self.base_url.setObjectName("providerBaseUrl")
        form.addRow("Base URL", self.base_url)
        self.model = QLineEdit(self)
        self.model.setObjectName("providerModel")
        self.model.setPlaceholderText("e.g. gpt-4o-mini or claude-sonnet-4-5")
        form.addRow("Model", self.model)
        self.no_key = QCheckBox("This server takes no API key (Ollama, LM Studio on this computer)", self)
        self.no_key.setObjectName("providerNoKey")
        form.addRow("", self.no_key)
        self.azure = QLineEdit(self)
        self.azure.setObjectName("providerAzureVersion")
        self.azure.setMaximumWidth(220)
        self.azure.setPlaceholderText("e.g. 2024-10-21")
        form.addRow("Azure API version", self.azure)
        self.key_form = form
        self.api_key: SecretField | None = None
        self._build_options(form)

    def _build_options(self, form: QFormLayout) -> None:
        limits = QHBoxLayout()
        self.timeout = self._small("providerTimeout")
        self.rpm = self._small("providerRpm")
        self.rpm.setPlaceholderText("no limit")
        self.concurrency = self._small("providerConcurrency")
        for label, edit in (
            ("seconds", self.timeout),
            ("requests/minute", self.rpm),
            ("at once", self.concurrency),
        ):
            limits.addWidget(edit)
            limits.addSpacing(4)
            limits.addWidget(QLabel(label, self))
            limits.addSpacing(16)
        limits.addStretch(1)
        form.addRow("Limits", limits)
        self.redact = QCheckBox("Replace personal data before sending (recommended)", self)
        self.redact.setObjectName("providerRedact")
        form.addRow("Redaction", with_note(self, self.redact, REDACTION_NOTE))
        uses = QHBoxLayout()
        self.uses = {
            step: QCheckBox(label, self)
            for step, label in (("classify", "Sorting emails"), ("draft", "Drafting replies"))
        }
        for box in self.uses.values():
            uses.addWidget(box)
        uses.addStretch(1)
        form.addRow("Use for", uses)
        actions = QHBoxLayout()
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test_connection)
        actions.addWidget(self.test_button)
        self.result = QLabel(self)
        self.result.setObjectName("providerResult")
        self.result.setWordWrap(True)
        actions.addWidget(self.result, 1)
        form.addRow("", actions)

    def _small(self, name: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setMaximumWidth(80)
        return edit

    def bind(self, ctx: Any) -> None:
        """Add the keyring-only API key input."""
        super().bind(ctx)
        self.api_key = SecretField(ctx, provider_secret_name(""), self)
        self.api_key.setObjectName("providerApiKey")
        self.key_form.insertRow(4, "API key", self.api_key)
        self.api_key.stored.connect(lambda _ok: self._refresh_facts())

    # --- showing ------------------------------------------------------------------------------

    def load(self, data: SettingsData) -> None:
        """List the providers and chains; edit the first provider (or a new one)."""
        self.ai = ai_settings_from_json(data.sections.get(SECTION))
        self._show_list()
        for step, editor in self.chains.items():
            editor.show_chain(self.ai.classify_chain if step == "classify" else self.ai.draft_chain)
        names = [p.name for p in self.ai.providers]
        if names:
            row = names.index(self._select) if self._select in names else 0
            self.list.setCurrentRow(row)
            self._selected(row)
        else:
            self.start_new()
        self._refresh_facts()

    def _show_list(self) -> None:
        self.list.blockSignals(True)
        current = self.list.currentRow()
        self.list.clear()
        for provider in self.ai.providers:
            self.list.addItem(self._describe(provider))
        self.list.setCurrentRow(current)
        self.list.blockSignals(False)

    def _describe(self, provider: ProviderSettings) -> str:
        kind = "Anthropic" if provider.kind == "anthropic" else "OpenAI-compatible"
        model = f" {provider.model}" if provider.model else ""
        if not provider.needs_api_key:
            key = "no key needed"
        else:
            key = "key stored" if self.facts.has_key.get(provider.name) else "no key yet"
        tokens = self.facts.tokens.get(provider.name, 0)
        requests = self.facts.requests.get(provider.name, 0)
        return (
            f"{provider.name} — {kind}{model} at {provider.host} · {key} · "
            f"today {tokens:,} tokens in {requests} request{'s' if requests != 1 else ''}"
        )

    def _refresh_facts(self) -> None:
        if self.ctx is None:
            return
        names = [p.name for p in self.ai.providers]
        self.ctx.call("Reading token use", lambda s: read_facts(s, names), done=self._facts_read)

    def _facts_read(self, facts: ProviderFacts) -> None:
        self.facts = facts
        self._show_list()
        if self.original is not None:
            self._show_key_state(self.original)

    def _selected(self, row: int) -> None:
        if 0 <= row < len(self.ai.providers):
            self._edit(self.ai.providers[row])

    def start_new(self) -> None:
        """An empty form for a new OpenAI-compatible provider."""
        self.list.clearSelection()
        self._edit(with_defaults("openai", ""), new=True)

    def _edit(self, provider: ProviderSettings, *, new: bool = False) -> None:
        self.clear_error()
        self.original = None if new else provider
        self.name.setText(provider.name)
        self.name.setEnabled(new)
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(0, self.kind.findData(provider.kind)))
        self.kind.blockSignals(False)
        self.base_url.setText(provider.base_url)
        self.model.setText(provider.model)
        self.timeout.setText(f"{provider.timeout_s:g}")
        self.rpm.setText("" if provider.requests_per_minute is None else str(provider.requests_per_minute))
        self.concurrency.setText(str(provider.max_concurrency))
        self.redact.setChecked(provider.redact)
        self.no_key.setChecked(not provider.needs_api_key)
        self.azure.setText(provider.azure_api_version or "")
        for step, box in self.uses.items():
            chain = self.ai.classify_chain if step == "classify" else self.ai.draft_chain
            box.setChecked(provider.name in chain if not new else True)
        self.editing_title.setText("New AI provider" if new else f"Settings of {provider.name}")
        self.test_button.setEnabled(not new)
        self.remove_button.setEnabled(not new)
        self.result.clear()
        self._show_key_state(provider, new=new)

    def _show_key_state(self, provider: ProviderSettings, *, new: bool = False) -> None:
        if self.api_key is not None:
            self.api_key.secret_name = provider_secret_name(provider.name)
            self.api_key.setEnabled(not new)
        if new:
            text = "Save the provider first, then enter its key."
        elif not provider.needs_api_key:
            text = "This server takes no key."
        else:
            stored = self.facts.has_key.get(provider.name)
            text = "A key is stored in the keyring." if stored else "No key is stored yet."
        secret_note(self.api_key, text)

    def _kind_changed(self) -> None:
        kind = str(self.kind.currentData())
        if self.base_url.text().strip() in ("", *DEFAULT_BASE_URLS.values()):
            self.base_url.setText(DEFAULT_BASE_URLS[kind])

    # --- saving -------------------------------------------------------------------------------

    def validate(self) -> tuple[ProviderSettings, tuple[str, ...]]:
        """The provider as typed (checked by the engine's rules) and the steps that use it."""
        base = self.original or with_defaults(str(self.kind.currentData()), "")
        provider = replace(
            base,
            name=self.name.text().strip(),
            kind=str(self.kind.currentData()),
            base_url=self.base_url.text().strip(),
            model=self.model.text().strip(),
            timeout_s=_number(self.timeout.text(), float, "the timeout must be between 1 and 600 seconds."),
            requests_per_minute=(
                _number(
                    self.rpm.text(), int, "requests per minute must be between 1 and 100000 (or no limit)."
                )
                if self.rpm.text().strip()
                else None
            ),
            max_concurrency=_number(
                self.concurrency.text(), int, "concurrent requests must be between 1 and 64."
            ),
            redact=self.redact.isChecked(),
            needs_api_key=not self.no_key.isChecked(),
            azure_api_version=self.azure.text().strip() or None,
        ).validate()
        if self.original is None and any(p.name == provider.name for p in self.ai.providers):
            raise ConfigurationError(f"AI provider name: {provider.name!r} is already used.")
        self._select = provider.name
        return provider, tuple(step for step, box in self.uses.items() if box.isChecked())

    def save(self, service: TriageService, value: tuple[ProviderSettings, tuple[str, ...]]) -> None:
        """Store the provider and its place in the chains; reconnect the engine."""
        from desktop.app.secrets import secret_store
        from desktop.wiring import reconnect

        provider, steps = value
        book = ProviderBook(service.settings, secret_store(service))
        updated = book.add(
            provider, steps=steps, actor=service.actor(), replace_existing=self.original is not None
        )
        for step in STEPS:
            chain = updated.classify_chain if step == "classify" else updated.draft_chain
            if step not in steps and provider.name in chain:
                book.set_chain(step, [n for n in chain if n != provider.name], actor=service.actor())
        reconnect(service)

    def field_for(self, message: str) -> QWidget | None:
        """Which input a validation message is about."""
        if message.startswith("AI provider name"):
            return self.name
        about = message.split(":", 1)[-1]
        for words, widget in (
            ("base URL", self.base_url),
            ("model", self.model),
            ("timeout", self.timeout),
            ("requests per minute", self.rpm),
            ("concurrent", self.concurrency),
            ("Azure", self.azure),
        ):
            if words in about:
                return widget
        return None

    # --- actions ------------------------------------------------------------------------------

    def move_in_chain(self, step: str, name: str, offset: int) -> None:
        """Move ``name`` up or down ``step``'s chain; stored at once, engine reconnected."""
        if self.ctx is None:
            return

        def op(service: TriageService) -> AiSettings:
            from desktop.wiring import reconnect

            updated = ProviderBook(service.settings).move(step, name, offset, actor=service.actor())
            reconnect(service)
            return updated

        self.ctx.call(
            "Change provider order",
            op,
            done=lambda settings: self._chain_moved(settings, step, name),
            error=lambda e: self.show_error(str(e)),
        )

    def _chain_moved(self, settings: AiSettings, step: str, name: str) -> None:
        self.ai = settings
        for each, editor in self.chains.items():
            chain = settings.classify_chain if each == "classify" else settings.draft_chain
            row = chain.index(name) if each == step and name in chain else editor.list.currentRow()
            editor.show_chain(chain)
            editor.list.setCurrentRow(row)
        self.chain_saved.emit()

    def remove_selected(self) -> None:
        """Remove the provider being edited (and its key), after asking."""
        provider = self.original
        if provider is None or self.ctx is None:
            return
        if not self.confirm(f"Remove the AI provider {provider.name!r} and forget its API key?"):
            return
        name = provider.name

        def op(service: TriageService) -> None:
            from desktop.app.secrets import secret_store
            from desktop.wiring import reconnect

            ProviderBook(service.settings, secret_store(service)).remove(name, actor=service.actor())
            reconnect(service)

        from desktop.app.context import AUDIT, SETTINGS

        self._select = ""
        self.ctx.call(
            "Remove AI provider",
            op,
            done=lambda _r: self.show_saved(f"Removed {name}."),
            error=lambda exc: self.show_error(str(exc)),
            changes=(SETTINGS, AUDIT),
        )

    def test_connection(self) -> None:
        """Send one tiny real request through the saved provider (on a worker) and say how it went."""
        provider = self.original
        if provider is None or self.ctx is None:
            return
        self.result.setText("Testing…")
        self.ctx.call(
            "Test AI provider",
            lambda s: probe(s, provider),
            done=lambda result: self._show_text(("✓ " if result.ok else "✗ ") + result.message),
            error=lambda exc: self._show_text(f"✗ {exc}"),
        )

    def _show_text(self, text: str) -> None:
        self.result.setText(text)
        self.result_shown.emit(text)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Remove AI provider", question)
        return answer == QMessageBox.StandardButton.Yes


def probe(service: TriageService, provider: ProviderSettings) -> Any:
    """``test_connection()`` of ``provider`` through the audited client factory (on a worker)."""
    from connectors.providers import build_provider
    from desktop.app.secrets import secret_store
    from desktop.wiring import factory_for

    built = build_provider(provider, factory_for(service, provider.host), secret_store(service))
    try:
        return built.test_connection()
    finally:
        built.close()


def _number(text: str, kind: type[int] | type[float], message: str) -> Any:
    try:
        return kind(text.strip().replace(",", "."))
    except ValueError as exc:
        raise ConfigurationError(f"AI provider: {message}") from exc


register(AiProvidersPage, after="mail_accounts")
