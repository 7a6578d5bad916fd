"""A generic webhook (Zapier, Make, n8n, Activepieces, Power Automate): POST one JSON event per email.

Headers: ``Content-Type: application/json``, ``Idempotency-Key`` (the activity's key, the same on
every retry), ``X-Inbox-Triage-Timestamp`` (Unix seconds) and ``X-Inbox-Triage-Signature:
sha256=<hex>`` — the HMAC-SHA256 of the raw request body with the shared secret. The body also
carries the key and ``sent_at``, so both are covered by the signature.

Reconcile: a webhook cannot be asked what it received, so :meth:`find_activity` returns ``None``
and a retry resends the event with the same ``Idempotency-Key``; receivers deduplicate on it
(``docs/providers.md`` shows how). A ``409`` answer is taken as "already received".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from connectors.crm.base import CrmBase
from connectors.errors import ConflictError
from connectors.http import ConnectionTestResult
from engine.ports import CrmActivity, EffectReceipt

EVENT = "email.triaged"
TEST_EVENT = "inbox_triage.test"
SIGNATURE_HEADER = "X-Inbox-Triage-Signature"
TIMESTAMP_HEADER = "X-Inbox-Triage-Timestamp"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=`` + hex HMAC-SHA256 with ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def event_body(activity: CrmActivity, *, sent_at: datetime) -> dict[str, Any]:
    """The JSON event: who, which category, one summary line — never the message body."""
    return {
        "event": EVENT,
        "idempotency_key": activity.idempotency_key,
        "sent_at": sent_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "activity": {
            "run_id": activity.run_id,
            "email": activity.email_address,
            "name": activity.contact_name,
            "company": activity.company,
            "category": activity.category,
            "summary": activity.summary,
            "message_id": activity.message_id,
            "occurred_at": activity.occurred_at.astimezone(UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
        },
    }


class WebhookCrm(CrmBase):
    """An :class:`engine.ports.CrmClient` that POSTs signed JSON to a configured URL."""

    label = "Webhook"

    def log_activity(self, activity: CrmActivity) -> EffectReceipt:
        """POST the event; a retry sends the same ``Idempotency-Key``."""
        return self._post(event_body(activity, sent_at=datetime.now(UTC)), activity.idempotency_key)

    def find_activity(self, activity: CrmActivity) -> EffectReceipt | None:
        """Always ``None``: the receiver deduplicates by ``Idempotency-Key`` (see the module docstring)."""
        return None

    def test_connection(self) -> ConnectionTestResult:
        """Send a signed test event (receivers can recognise ``event == "inbox_triage.test"``)."""
        key = f"test-{uuid.uuid4()}"
        body = {"event": TEST_EVENT, "idempotency_key": key, "sent_at": datetime.now(UTC).isoformat()}

        def probe() -> str:
            receipt = self._post(body, key)
            return f"The webhook at {self.destination} accepted a signed test event ({receipt.external_id})."

        return self._test(probe)

    def _post(self, payload: dict[str, Any], key: str) -> EffectReceipt:
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            TIMESTAMP_HEADER: str(int(time.time())),
            SIGNATURE_HEADER: sign(self.secret(), raw),
        }
        try:
            response = self._send(
                "POST", self.settings.base_url, content=raw, headers=headers, applies_effect=True
            )
        except ConflictError:
            return EffectReceipt(external_id=key, destination=self.destination, detail={"duplicate": True})
        external = key
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("id"), str | int):
                external = str(data["id"])
        return EffectReceipt(
            external_id=external, destination=self.destination, detail={"idempotency_key": key}
        )
