"""Reading everything Settings shows, on a worker: sections, defaults, configured services, keyring."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from desktop.app.secrets import keyring_status
from desktop.app.settings.framework import ServiceStatus, SettingsData

if TYPE_CHECKING:
    from engine.service import TriageService


def configured_services(service: TriageService) -> list[ServiceStatus]:
    """The mail sources, sender, CRM and AI providers this profile is wired with."""
    connections = service.connections
    found = [
        ServiceStatus("Mail in", _source_name(account), source.destination, _source_detail(account))
        for account, source in connections.sources.items()
    ]
    sender = connections.sender
    folder = getattr(sender, "folder", None)
    found.append(
        ServiceStatus(
            "Replies out",
            "Local outbox folder" if folder is not None else type(sender).__name__,
            sender.destination,
            str(folder) if folder is not None else "",
        )
    )
    crm = connections.crm
    if crm is None:
        found.append(ServiceStatus("CRM", "Built-in contacts", "local", "kept in this profile's database"))
    else:
        found.append(ServiceStatus("CRM", crm.name, crm.destination))
    found.extend(
        ServiceStatus(
            "AI provider",
            p.name,
            p.destination,
            f"{p.destination}, redaction {'on' if getattr(p, 'redact', True) else 'OFF'}",
        )
        for p in connections.ai_providers
    )
    return found


def _source_name(account: str) -> str:
    return "Demo mailbox" if account == "demo" else account


def _source_detail(account: str) -> str:
    return "52 sample emails bundled with the app" if account == "demo" else ""


def load_settings_data(service: TriageService, section_keys: Iterable[str] = ()) -> SettingsData:
    """Every settings section and status fact the pages need."""
    from desktop.wiring import is_demo
    from engine.drafting.templates import TEMPLATE_CATEGORIES, DraftTemplates

    store = service.settings
    defaults = DraftTemplates.default()
    return SettingsData(
        office=store.office(),
        policies=store.policies(),
        retention=store.retention(),
        schedule=store.schedule(),
        default_templates={c: defaults.text(c) or "" for c in TEMPLATE_CATEGORIES},
        services=configured_services(service),
        keyring=keyring_status(),
        demo=is_demo(service.profile),
        sections={key: store.section(key) for key in section_keys},
    )
