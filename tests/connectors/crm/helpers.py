"""Building CRM connectors against the fakes, test activities, and the runner's effect protocol."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.crm import CrmBase, CrmSettings, build_crm
from connectors.http import EgressEvent, EgressPolicy, HttpClientFactory
from engine.errors import OutcomeUnknownError
from engine.ports import CrmActivity, CrmClient, EffectReceipt
from tests.support_http.secrets import DictSecrets
from tests.support_http.server import LoopbackServer

CREATED: list[CrmBase] = []

BODY_TEXT = "Please print 500 cards, my card number is 4111 1111 1111 1111"


def activity(key: str = "run-7/crm", email: str = "priya@redlandphysio.co.uk", **changes: Any) -> CrmActivity:
    values: dict[str, Any] = {
        "idempotency_key": key,
        "run_id": "7",
        "email_address": email,
        "contact_name": "Priya Patel",
        "company": "",
        "category": "order",
        "summary": "Order: Business cards for Redland Physio",
        "subject": "Business cards for Redland Physio",
        "message_id": "<abc@example.net>",
        "occurred_at": datetime(2026, 11, 9, 10, 0, tzinfo=UTC),
    }
    values.update(changes)
    return CrmActivity(**values)


def crm(
    server: LoopbackServer,
    kind: str,
    secret: str,
    *,
    events: list[EgressEvent] | None = None,
    **settings: Any,
) -> CrmBase:
    base_url = settings.pop("base_url", f"{server.url}/hook" if kind == "webhook" else server.url)
    config = CrmSettings(kind=kind, base_url=base_url, timeout_s=settings.pop("timeout_s", 2.0), **settings)
    factory = HttpClientFactory(
        EgressPolicy.from_urls([server.url]), events.append if events is not None else None
    )
    connector = build_crm(config, factory, DictSecrets({config.secret_name: secret}))
    CREATED.append(connector)
    return connector


def log_once(
    client: CrmClient, item: CrmActivity, *, attempts: int = 3, after_unknown: bool = False
) -> EffectReceipt:
    """The runner's protocol (engine.durable.effects): perform; after an unknown outcome (including
    one from an earlier attempt, ``after_unknown``) reconcile before performing again."""
    uncertain = after_unknown
    for _ in range(attempts):
        if uncertain:
            found = client.find_activity(item)
            if found is not None:
                return found
        try:
            return client.log_activity(item)
        except OutcomeUnknownError:
            uncertain = True
    raise AssertionError("no attempt succeeded")
