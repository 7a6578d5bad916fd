"""The one place settings pages are listed. To add a page: write the class, add it here.

Connector pages (mail accounts, AI providers, CRM) register themselves with :func:`register`
from their own module, listed in :data:`PLUGIN_MODULES`, so they appear only once they exist.
"""

from __future__ import annotations

import importlib

from desktop.app.settings.framework import SettingsPage
from desktop.app.settings.pages.connections import ConnectionsPage
from desktop.app.settings.pages.office import OfficePage
from desktop.app.settings.pages.policies import PoliciesPage
from desktop.app.settings.pages.privacy import PrivacyPage
from desktop.app.settings.pages.schedule import SchedulePage

#: The pages, in the order the Settings tab lists them.
PAGES: list[type[SettingsPage]] = [OfficePage, ConnectionsPage, PoliciesPage, SchedulePage, PrivacyPage]

#: Modules that register further pages when imported (connector settings); absent ones are skipped.
PLUGIN_MODULES: tuple[str, ...] = (
    "desktop.app.settings.pages.mail_accounts",
    "desktop.app.settings.pages.ai_providers",
    "desktop.app.settings.pages.crm",
)


def register(page: type[SettingsPage], *, after: str | None = None) -> None:
    """Add a page (after the page with key ``after``, else at the end); registering twice is a no-op."""
    if page in PAGES:
        return
    keys = [p.key for p in PAGES]
    position = keys.index(after) + 1 if after in keys else len(PAGES)
    PAGES.insert(position, page)


def pages() -> list[type[SettingsPage]]:
    """Every registered page, plugin pages included."""
    for module in PLUGIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return list(PAGES)


def has_page(key: str) -> bool:
    """Whether a page with ``key`` is registered."""
    return any(p.key == key for p in pages())
