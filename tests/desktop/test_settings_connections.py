"""Settings → Mail accounts, AI providers and CRM: validation in place, keyring-only secrets, test
buttons, chain order, and the running engine picking up a change without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.accounts import AccountBook, GraphAccount
from connectors.ai_book import ProviderBook
from connectors.local_folder import EmlFolderSource
from desktop.app.application import AppController
from desktop.app.secrets import NO_KEYRING_MESSAGE
from desktop.wiring import reconnect
from engine.ai.settings import with_defaults
from engine.queries import AuditFilter
from tests.connectors.graph.fake_graph import CLIENT_ID, TENANT, FakeMicrosoft, fake_microsoft
from tests.support.memory_keyring import MemoryKeyring
from tests.support.ports import free_port
from tests.support_http.hubspot import HubSpotServer
from tests.support_http.openai import OpenAIServer

pytestmark = pytest.mark.gui
__all__ = ["fake_microsoft"]  # fixture


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


def open_page(app: AppController, qtbot, key: str):
    tab = app.settings_tab
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        app.window.tabs.setCurrentWidget(tab)
    tab.show_page(key)
    return tab, tab.pages[key]


def save(tab, qtbot) -> None:
    with qtbot.waitSignal(tab.loaded, timeout=15_000):  # saved, then every page reloaded
        tab.save_button.click()


def idle(app: AppController, qtbot) -> None:
    qtbot.waitUntil(lambda: not app.tasks.busy, timeout=10_000)


# --- mail accounts -----------------------------------------------------------------------------------


def test_mail_account_problems_are_shown_on_each_field(app: AppController, qtbot) -> None:
    tab, page = open_page(app, qtbot, "mail_accounts")
    page.start_new("imap")
    form = page.forms["imap"]
    form.inputs["name"].setText("office")
    form.inputs["port"].setText("nine")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert failed.args[0] == "port: a whole number"
    assert form.inputs["port"].property("invalid") is True
    form.inputs["port"].setText("")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "host: enter the server's name" in failed.args[0]
    assert "username: enter the login name" in failed.args[0]
    assert form.inputs["host"].property("invalid") is True
    assert form.inputs["username"].property("invalid") is True
    assert form.inputs["port"].property("invalid") is False
    assert app.ctx is not None and AccountBook(app.ctx.service.settings).accounts() == []


def test_mail_account_saved_used_tested_and_removed(
    app: AppController, qtbot, memory_keyring: MemoryKeyring
) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    tab, page = open_page(app, qtbot, "mail_accounts")
    page.start_new("imap")
    form = page.forms["imap"]
    port = free_port()
    form.inputs["name"].setText("office")
    form.inputs["host"].setText("127.0.0.1")
    form.inputs["port"].setText(str(port))
    form.inputs["security"].setCurrentText("none")
    form.inputs["username"].setText("jo@example.co.uk")
    assert form.password is not None and not form.password.isEnabled()  # save the account first
    save(tab, qtbot)
    idle(app, qtbot)
    assert page.list.count() == 1 and page.list.item(0).text().startswith("office — IMAP 127.0.0.1")
    assert "office" in service.connections.sources  # the engine uses it without a restart
    # The password goes to the keyring under the account's name.
    assert form.password.isEnabled()
    form.password.edit.setText("hunter2")
    with qtbot.waitSignal(form.password.stored, timeout=5_000) as stored:
        form.password.save()
    assert stored.args == [True]
    assert memory_keyring.passwords[("inbox-triage", "account:office:password")] == "hunter2"
    # Test connection runs stage by stage on a worker: nothing listens on that port.
    with qtbot.waitSignal(page.result_shown, timeout=15_000) as shown:
        page.test_button.click()
    assert "✓ dns" in shown.args[0] and "✗ tcp" in shown.args[0]
    assert page.result.text() == shown.args[0]
    # Remove asks first; "no" keeps it.
    page.confirm = lambda _question: False
    page.remove_button.click()
    assert not app.tasks.busy and AccountBook(service.settings).accounts()
    page.confirm = lambda _question: True
    with qtbot.waitSignal(tab.loaded, timeout=15_000):
        page.remove_button.click()
    assert AccountBook(service.settings).accounts() == []
    assert "office" not in service.connections.sources
    assert ("inbox-triage", "account:office:password") not in memory_keyring.passwords


def test_without_a_keyring_passwords_and_keys_are_refused(app: AppController, qtbot, no_keyring) -> None:
    assert app.ctx is not None
    ProviderBook(app.ctx.service.settings).add(with_defaults("openai", "gpt", model="m"))
    tab, page = open_page(app, qtbot, "ai_providers")
    field = page.api_key
    assert field is not None and field.isEnabled()
    field.edit.setText("sk-secret")
    with qtbot.waitSignal(field.stored, timeout=5_000) as stored:
        field.save()
    assert stored.args == [False]
    assert field.status.text() == f"Not saved: {NO_KEYRING_MESSAGE}" and field.edit.text() == ""
    tab.refresh()
    idle(app, qtbot)
    assert field.status.text() == f"Not saved: {NO_KEYRING_MESSAGE}"  # not hidden by "no key yet"


# --- AI providers ------------------------------------------------------------------------------------


def test_provider_fields_are_checked_in_place(app: AppController, qtbot) -> None:
    tab, page = open_page(app, qtbot, "ai_providers")
    page.start_new()
    page.name.setText("gpt")
    page.model.setText("gpt-4o-mini")
    page.timeout.setText("soon")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert failed.args[0] == "AI provider: the timeout must be between 1 and 600 seconds."
    assert page.timeout.property("invalid") is True
    page.timeout.setText("30")
    page.base_url.setText("ftp://example.com")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "the base URL must start with https://" in failed.args[0]
    assert page.base_url.property("invalid") is True
    assert page.redact.isChecked()  # on by default


def test_a_new_provider_is_tested_and_used_without_a_restart(
    app: AppController, qtbot, openai_server: OpenAIServer, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    tab, page = open_page(app, qtbot, "ai_providers")
    page.start_new()
    page.name.setText("gpt")
    page.base_url.setText(f"{openai_server.url}/v1")
    page.model.setText("gpt-4o-mini")
    page.rpm.setText("")
    page.uses["draft"].setChecked(False)
    save(tab, qtbot)
    idle(app, qtbot)
    assert [p.name for p in service.connections.classify_chain] == ["gpt"]
    assert service.connections.draft_chain == ()
    assert (
        page.list.item(0).text().startswith("gpt — OpenAI-compatible gpt-4o-mini at 127.0.0.1 · no key yet")
    )
    assert page.api_key is not None and page.api_key.isEnabled()
    page.api_key.edit.setText("sk-test")
    with qtbot.waitSignal(page.api_key.stored, timeout=5_000):
        page.api_key.save()
    assert memory_keyring.passwords[("inbox-triage", "ai-provider:gpt")] == "sk-test"
    with qtbot.waitSignal(page.result_shown, timeout=15_000) as shown:
        page.test_button.click()
    assert shown.args[0].startswith("✓ OpenAI-compatible provider 'gpt' answered with model gpt-4o-mini")
    # The running engine classifies the next email through it.
    idle(app, qtbot)
    inbox = tmp_path / "new-mail"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(
        b"From: Ann Example <ann@example.org>\r\nTo: hello@thornburywebb.co.uk\r\n"
        b"Subject: Price for 500 flyers\r\nMessage-ID: <new-1@example.org>\r\n\r\n"
        b"Hello, what would 500 A5 flyers cost? Thanks, Ann\r\n"
    )
    source = EmlFolderSource(inbox)
    try:
        assert service.ingest(source).new_runs == 1
    finally:
        source.close()
    service.process()
    [event] = service.queries.audit_events(AuditFilter(actions=("ai.classify",)), limit=10)
    assert (event.destination, event.outcome, event.actor) == ("127.0.0.1", "ok", "provider:gpt")
    assert len(openai_server.recorded()) == 2  # the test, then the email
    tab.refresh()  # token use today counts the email's request (a test is not counted)
    qtbot.waitUntil(lambda: "in 1 request" in page.list.item(0).text(), timeout=10_000)
    assert "today 0 tokens" not in page.list.item(0).text()


def test_chain_order_moves_persist_and_reach_the_engine(app: AppController, qtbot) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    book = ProviderBook(service.settings)
    for name in ("first", "second"):
        book.add(with_defaults("openai", name, model="m"), steps=("classify",))
    reconnect(service)
    tab, page = open_page(app, qtbot, "ai_providers")
    editor = page.chains["classify"]
    assert [editor.list.item(i).text() for i in range(editor.list.count())] == [
        "1. first",
        "2. second",
        "3. offline classifier",
    ]
    editor.list.setCurrentRow(1)
    with qtbot.waitSignal(page.chain_saved, timeout=10_000):
        editor.up.click()
    assert book.settings().classify_chain == ("second", "first")
    assert [p.name for p in service.connections.classify_chain] == ["second", "first"]
    assert editor.list.currentRow() == 0 and editor.list.item(0).text() == "1. second"
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        tab.refresh()
    assert page.chains["classify"].list.item(0).text() == "1. second"
    assert page.chains["draft"].list.item(0).text() == "1. offline templates"


# --- CRM ---------------------------------------------------------------------------------------------


def test_crm_connect_token_test_webhook_note_and_disconnect(
    app: AppController, qtbot, memory_keyring: MemoryKeyring
) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    tab, page = open_page(app, qtbot, "crm")
    assert service.connections.crm is None
    assert not page.form_layout.isRowVisible(page.url)
    page.kind.setCurrentIndex(page.kind.findData("webhook"))
    assert page.form_layout.isRowVisible(page.signature)
    assert (
        "X-Inbox-Triage-Signature" in page.signature.text() and "docs/providers.md" in page.signature.text()
    )
    page.url.setText("hooks.example.com/x")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "webhook URL must start with https://" in failed.args[0]
    assert page.url.property("invalid") is True

    with HubSpotServer() as hubspot:
        page.kind.setCurrentIndex(page.kind.findData("hubspot"))
        assert page.url.text() == "https://api.hubapi.com"
        assert not page.form_layout.isRowVisible(page.signature)
        page.url.setText(hubspot.url)
        save(tab, qtbot)
        idle(app, qtbot)
        assert service.connections.crm is not None and service.connections.crm.destination == "127.0.0.1"
        assert page.secret is not None and page.secret.isEnabled()
        page.secret.edit.setText("pat-na1-test")
        with qtbot.waitSignal(page.secret.stored, timeout=5_000):
            page.secret.save()
        assert memory_keyring.passwords[("inbox-triage", "crm:hubspot")] == "pat-na1-test"
        with qtbot.waitSignal(page.result_shown, timeout=15_000) as shown:
            page.test_button.click()
        assert shown.args[0].startswith("✓ ")
        memory_keyring.passwords[("inbox-triage", "crm:hubspot")] = "wrong"
        with qtbot.waitSignal(page.result_shown, timeout=15_000) as shown:
            page.test_button.click()
        assert shown.args[0].startswith("✗ HubSpot refused the token")

    with qtbot.waitSignal(tab.loaded, timeout=15_000):
        page.disconnect_button.click()
    assert service.connections.crm is None
    assert ("inbox-triage", "crm:hubspot") not in memory_keyring.passwords
    assert page.kind.currentData() == "none"


def test_privacy_and_status_pages_say_which_providers_get_redacted_text(app: AppController, qtbot) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    book = ProviderBook(service.settings)
    book.add(with_defaults("openai", "cloud", model="m"), steps=("classify",))
    book.add(with_defaults("openai", "local", base_url="http://127.0.0.1:11434/v1", model="m", redact=False))
    reconnect(service)
    tab, privacy = open_page(app, qtbot, "privacy")
    text = privacy.providers.text()
    assert "replaced by placeholders: cloud (api.openai.com)." in text
    assert "Redaction is OFF for local (127.0.0.1): email text goes there as written." in text
    hosts = [privacy.hosts.item(i).text() for i in range(privacy.hosts.count())]
    assert {"api.openai.com", "127.0.0.1"} <= set(hosts)
    status = tab.pages["connections"]
    cells = [c.text() for c in status._cells]
    assert "api.openai.com, redaction on" in cells and "127.0.0.1, redaction OFF" in cells


def test_microsoft_365_sign_in_shows_the_device_code_then_tests_ok(
    app: AppController, qtbot, fake_microsoft: FakeMicrosoft
) -> None:
    assert app.ctx is not None
    service = app.ctx.service
    AccountBook(service.settings, service.connections.secrets).add(
        GraphAccount(
            name="m365",
            client_id=CLIENT_ID,
            tenant=TENANT,
            mailbox="office@print.example",
            authority_host=fake_microsoft.origin,
            graph_url=fake_microsoft.graph_url,
            ca_file=str(fake_microsoft.ca_file),
        )
    )
    reconnect(service)
    _tab, page = open_page(app, qtbot, "mail_accounts")
    assert page.editing_title.text() == "m365 (Microsoft 365)"
    assert page.sign_in_button.isVisible() and page.sign_in_button.isEnabled()
    shown: list[str] = []
    page.result_shown.connect(shown.append)
    with qtbot.waitSignal(page.device_code, timeout=15_000) as code:
        page.sign_in_button.click()
    assert code.args[0] == "ABCD-EFGH"
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=15_000)
    assert "enter the code ABCD-EFGH" in shown[0]
    assert shown[1].startswith("Signed in as ") and shown[1].endswith("the sign-in is kept in the keyring.")
    with qtbot.waitSignal(page.result_shown, timeout=15_000) as result:
        page.test_button.click()
    assert "✓ login: signed in as" in result.args[0] and "Everything worked." in result.args[0]
    events = service.queries.audit_events(AuditFilter(actions=("egress.call",)), limit=100)
    assert {e.detail["purpose"] for e in events} >= {"microsoft-sign-in", "microsoft-graph"}


def test_a_local_server_without_a_key_and_messages_name_their_field(app: AppController, qtbot) -> None:
    tab, page = open_page(app, qtbot, "ai_providers")
    page.start_new()
    page.name.setText("ollama")
    page.base_url.setText("http://127.0.0.1:11434/v1")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "enter the model name" in failed.args[0]
    assert page.model.property("invalid") is True and page.name.property("invalid") is not True
    page.model.setText("llama3.1")
    page.no_key.setChecked(True)
    save(tab, qtbot)
    assert app.ctx is not None
    [saved] = ProviderBook(app.ctx.service.settings).providers()
    assert (saved.name, saved.needs_api_key, saved.azure_api_version) == ("ollama", False, None)
    qtbot.waitUntil(lambda: "no key needed" in page.list.item(0).text(), timeout=10_000)
    assert page.api_key is not None and page.api_key.status.text() == "This server takes no key."
