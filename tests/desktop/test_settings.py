"""Settings: invalid input refused in place with the engine's message, saves audited, keyring status."""

from __future__ import annotations

import pytest

from desktop.app.application import AppController
from desktop.app.secrets import NO_KEYRING_MESSAGE
from desktop.app.settings.fields import SecretField
from engine.queries import AuditFilter
from tests.desktop.conftest import USER

pytestmark = pytest.mark.gui


def settings_tab(app: AppController, qtbot):
    tab = app.settings_tab
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        app.window.tabs.setCurrentWidget(tab)
    return tab


def test_an_invalid_reply_from_address_is_refused_in_place(app: AppController, qtbot) -> None:
    tab = settings_tab(app, qtbot)
    tab.show_page("office")
    page = tab.pages["office"]
    page.reply_from.setText("not an address")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert failed.args[0].startswith("Reply-from address: 'not an address' is not an email address")
    assert page.message.isVisible() and page.message.text == failed.args[0]
    assert page.reply_from.property("invalid") is True
    assert app.ctx is not None
    assert app.ctx.service.settings.office().reply_from == "hello@thornburywebb.co.uk"


def test_a_valid_change_is_saved_and_audited_under_the_new_name(app: AppController, qtbot) -> None:
    tab = settings_tab(app, qtbot)
    page = tab.pages["office"]
    page.user_name.setText("Ben Okafor")
    page.signature.setPlainText("Ben at Thornbury & Webb")
    with qtbot.waitSignal(tab.saved, timeout=10_000):
        tab.save_button.click()
    assert app.ctx is not None
    office = app.ctx.service.settings.office()
    assert (office.user_name, office.signature) == ("Ben Okafor", "Ben at Thornbury & Webb")
    event = app.ctx.service.queries.audit_events(AuditFilter(actions=("settings.changed",)), limit=1)[0]
    assert event.actor == "user:Ben Okafor"
    assert page.message.kind == "ok"


def test_schedule_and_policy_messages(app: AppController, qtbot) -> None:
    tab = settings_tab(app, qtbot)
    tab.show_page("schedule")
    schedule = tab.pages["schedule"]
    schedule.minutes.setText("0")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert failed.args[0] == "Schedule: poll every 1 to 1440 minutes."
    assert schedule.minutes.property("invalid") is True
    schedule.minutes.setText("15")
    schedule.working_hours.setChecked(True)
    schedule.start.setText("9am")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "working hours start must look like 08:30" in failed.args[0]
    assert schedule.start.property("invalid") is True
    schedule.start.setText("09:00")
    with qtbot.waitSignal(tab.saved, timeout=10_000):
        tab.save_button.click()
    assert app.ctx is not None
    saved = app.ctx.service.settings.schedule()
    assert (saved.poll_minutes, saved.working_hours_only, saved.start) == (15, True, "09:00")

    tab.show_page("policies")
    policies = tab.pages["policies"]
    row = policies.rows["order"]
    row.mode.setCurrentIndex(row.mode.findData("auto_send"))
    assert row.threshold.isEnabled()
    row.threshold.setText("1.5")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "the confidence threshold must be between 0 and 1, not 1.5" in failed.args[0]
    row.threshold.setText("0.95")
    policies.edit_template("order")
    policies.template.setPlainText("Hello $name, thanks.")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert "unknown placeholder $name" in failed.args[0]
    assert policies.template.property("invalid") is True
    policies.template.setPlainText("Hello $sender_name, thanks for your order.\n\n$signature")
    with qtbot.waitSignal(tab.saved, timeout=10_000):
        tab.save_button.click()
    order = app.ctx.service.settings.policies()["order"]
    assert (order.mode, order.threshold) == ("auto_send", 0.95)
    assert order.template is not None and order.template.startswith("Hello $sender_name")


def test_connections_and_privacy_describe_what_is_configured(app: AppController, qtbot) -> None:
    tab = settings_tab(app, qtbot)
    assert tab.pages["connections"].summary.text() == "Mail accounts: demo mailbox / local outbox."
    privacy = tab.pages["privacy"]
    assert [privacy.hosts.item(i).text() for i in range(privacy.hosts.count())] == [
        "Local only — nothing leaves this computer."
    ]
    assert "No AI provider is configured" in privacy.providers.text()
    assert "keyring" in privacy.keyring.text()
    privacy.retention.setText("5000")
    tab.show_page("privacy")
    with qtbot.waitSignal(tab.save_failed, timeout=5_000) as failed:
        tab.save_button.click()
    assert failed.args[0] == "Retention: keep message content between 1 and 3650 days."


def test_without_a_keyring_the_app_says_so_and_stores_no_secret(
    app: AppController, qtbot, no_keyring
) -> None:
    assert app.ctx is not None
    tab = app.settings_tab
    with qtbot.waitSignal(tab.loaded, timeout=10_000):
        tab.refresh()
    privacy = tab.pages["privacy"]
    assert NO_KEYRING_MESSAGE in privacy.keyring.text()
    assert "passwords cannot be saved" in privacy.keyring.text()
    field = SecretField(app.ctx, "imap-password")
    qtbot.addWidget(field)
    assert field.status.text() == f"Not saved: {NO_KEYRING_MESSAGE}"
    field.edit.setText("hunter2")
    with qtbot.waitSignal(field.stored, timeout=5_000) as stored:
        field.save()
    assert stored.args == [False]
    assert field.edit.text() == ""
    assert "Not saved" in field.status.text()


def test_with_a_keyring_a_secret_goes_there(app: AppController, qtbot, memory_keyring) -> None:
    assert app.ctx is not None
    field = SecretField(app.ctx, "imap-password")
    qtbot.addWidget(field)
    field.edit.setText("hunter2")
    with qtbot.waitSignal(field.stored, timeout=5_000) as stored:
        field.save()
    assert stored.args == [True]
    assert "hunter2" in memory_keyring.passwords.values()
    assert field.edit.text() == ""


def test_user_name_shown_in_settings(app: AppController, qtbot) -> None:
    tab = settings_tab(app, qtbot)
    assert tab.pages["office"].user_name.text() == USER
