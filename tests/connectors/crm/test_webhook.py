"""The webhook connector against a receiver that verifies signatures and deduplicates by key."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from connectors.crm import sign
from connectors.errors import (
    AuthenticationError,
    ConnectorOutcomeUnknownError,
    ConnectorTimeoutError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
)
from engine.ports import CrmClient
from tests.connectors.crm.helpers import BODY_TEXT, activity, crm, log_once
from tests.support_http.webhook import WebhookServer

SECRET = "whsec-test"


def test_signed_event(webhook_server: WebhookServer) -> None:
    client = crm(webhook_server, "webhook", SECRET)
    assert isinstance(client, CrmClient)
    receipt = client.log_activity(activity())
    assert receipt.external_id == "evt_1"
    [recorded] = webhook_server.recorded()
    expected = "sha256=" + hmac.new(SECRET.encode(), recorded.body, hashlib.sha256).hexdigest()
    assert recorded.headers["x-inbox-triage-signature"] == expected == sign(SECRET, recorded.body)
    assert recorded.headers["idempotency-key"] == "run-7/crm"
    assert recorded.headers["content-type"] == "application/json"
    assert abs(int(recorded.headers["x-inbox-triage-timestamp"]) - time.time()) < 60
    body = recorded.json()
    assert body["event"] == "email.triaged"
    assert body["idempotency_key"] == "run-7/crm"
    assert body["activity"] == {
        "run_id": "7",
        "email": "priya@redlandphysio.co.uk",
        "name": "Priya Patel",
        "company": "",
        "category": "order",
        "summary": "Order: Business cards for Redland Physio",
        "message_id": "<abc@example.net>",
        "occurred_at": "2026-11-09T10:00:00Z",
    }
    assert BODY_TEXT not in recorded.body.decode()


def test_lost_response_is_resent_with_the_same_key_and_deduplicated(webhook_server: WebhookServer) -> None:
    client = crm(webhook_server, "webhook", SECRET)
    webhook_server.fail(drop_after_apply=True)
    with pytest.raises(ConnectorOutcomeUnknownError):
        client.log_activity(activity())
    assert client.find_activity(activity()) is None  # nothing to ask a webhook
    receipt = log_once(client, activity())
    assert receipt.external_id == "evt_1"
    assert len(webhook_server.accepted) == 1
    keys = {r.headers["idempotency-key"] for r in webhook_server.recorded()}
    assert keys == {"run-7/crm"}
    assert len(webhook_server.recorded()) == 2


def test_conflict_means_already_received() -> None:
    with WebhookServer(duplicate_status=409) as server:
        client = crm(server, "webhook", SECRET)
        client.log_activity(activity())
        receipt = client.log_activity(activity())
        assert receipt.detail == {"duplicate": True}
        assert receipt.external_id == "run-7/crm"


def test_wrong_secret(webhook_server: WebhookServer) -> None:
    with pytest.raises(AuthenticationError, match="bad signature"):
        crm(webhook_server, "webhook", "not-the-secret").log_activity(activity())


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, RemoteNotFoundError), (429, RateLimitedError), (500, ServerError), (503, ServerError)],
)
def test_error_statuses(webhook_server: WebhookServer, status: int, error: type[Exception]) -> None:
    webhook_server.fail(status=status, body={"error": f"nope {status}"}, headers={"Retry-After": "1"})
    with pytest.raises(error):
        crm(webhook_server, "webhook", SECRET).log_activity(activity())


def test_timeout_is_outcome_unknown(webhook_server: WebhookServer) -> None:
    webhook_server.fail(delay_s=5)
    with pytest.raises(ConnectorOutcomeUnknownError):
        crm(webhook_server, "webhook", SECRET, timeout_s=1.0).log_activity(activity())


def test_test_connection(webhook_server: WebhookServer) -> None:
    result = crm(webhook_server, "webhook", SECRET).test_connection()
    assert result.ok
    [(key, received)] = webhook_server.accepted.items()
    assert key.startswith("test-")
    assert received["body"]["event"] == "inbox_triage.test"


def test_receivers_can_verify_with_the_documented_algorithm(webhook_server: WebhookServer) -> None:
    """The docs' recipe: HMAC-SHA256 over the raw bytes, hex, compared in constant time."""
    crm(webhook_server, "webhook", SECRET).log_activity(activity())
    raw = webhook_server.recorded()[0].body
    header = webhook_server.recorded()[0].headers["x-inbox-triage-signature"]
    digest = hmac.new(SECRET.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(header, f"sha256={digest}")
    assert json.loads(raw)["idempotency_key"] == webhook_server.recorded()[0].headers["idempotency-key"]
    assert not isinstance(ConnectorTimeoutError("x"), AuthenticationError)
