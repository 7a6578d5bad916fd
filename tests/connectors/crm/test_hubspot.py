"""HubSpot against a loopback server implementing contacts and notes."""

from __future__ import annotations

import pytest

from connectors.crm import activity_marker
from connectors.errors import (
    AuthenticationError,
    ConnectorOutcomeUnknownError,
    ConnectorTimeoutError,
    EgressDeniedError,
    MalformedResponseError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
)
from connectors.http import EgressEvent
from engine.errors import TransientError
from engine.ports import CrmClient
from tests.connectors.crm.helpers import BODY_TEXT, activity, crm, log_once
from tests.support_http.hubspot import HubSpotServer

TOKEN = "pat-na1-test"


def test_creates_contact_and_note(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN)
    assert isinstance(client, CrmClient)
    receipt = client.log_activity(activity())
    [(contact_id, contact)] = hubspot_server.contacts.items()
    assert contact["email"] == "priya@redlandphysio.co.uk"
    assert (contact["firstname"], contact["lastname"]) == ("Priya", "Patel")
    assert receipt.external_id in hubspot_server.notes
    assert receipt.destination == "127.0.0.1"
    assert receipt.detail == {"object": "note", "contact_id": contact_id}
    note_request = hubspot_server.recorded("POST", "/crm/v3/objects/notes")[0]
    assert note_request.headers["authorization"] == f"Bearer {TOKEN}"
    body = note_request.json()
    assert body["properties"]["hs_timestamp"] == "2026-11-09T10:00:00.000Z"
    assert activity_marker("run-7/crm") in body["properties"]["hs_note_body"]
    assert "Order: Business cards for Redland Physio" in body["properties"]["hs_note_body"]
    assert body["associations"] == [
        {
            "to": {"id": contact_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
        }
    ]


def test_existing_contact_is_reused(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN)
    client.log_activity(activity("a"))
    client.log_activity(activity("b", email="PRIYA@redlandphysio.co.uk"))
    assert len(hubspot_server.contacts) == 1
    assert len(hubspot_server.notes) == 2


def test_conflict_on_create_takes_the_existing_contact(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN)
    client.log_activity(activity("a"))
    hubspot_server.fail(status=200, body={"total": 0, "results": []}, path="/crm/v3/objects/contacts/search")
    receipt = client.log_activity(activity("b"))
    assert len(hubspot_server.contacts) == 1
    assert receipt.detail["contact_id"] == next(iter(hubspot_server.contacts))
    assert [r.path for r in hubspot_server.recorded("POST")][-2:] == [
        "/crm/v3/objects/contacts",
        "/crm/v3/objects/notes",
    ]


def test_lost_note_response_is_not_duplicated(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN)
    hubspot_server.fail(drop_after_apply=True, method="POST", path="/crm/v3/objects/notes")
    with pytest.raises(ConnectorOutcomeUnknownError):
        client.log_activity(activity())
    assert len(hubspot_server.notes) == 1  # it was applied, only the answer was lost
    found = client.find_activity(activity())
    assert found is not None
    assert list(hubspot_server.notes) == [found.external_id]
    assert found.detail == {"object": "note"}


def test_runner_protocol_with_lost_response_and_lagging_search(hubspot_server: HubSpotServer) -> None:
    """Search has not indexed the note yet: the contact's associations find it all the same."""
    hubspot_server.search_lag = 100
    client = crm(hubspot_server, "hubspot", TOKEN)
    hubspot_server.fail(drop_after_apply=True, method="POST", path="/crm/v3/objects/notes")
    receipt = log_once(client, activity())
    assert list(hubspot_server.notes) == [receipt.external_id]
    assert hubspot_server.recorded("GET", "/crm/v4/objects/contacts/")
    assert hubspot_server.recorded("POST", "/crm/v3/objects/notes/batch/read")


def test_lost_contact_creation_is_recovered_by_conflict(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN)
    hubspot_server.fail(drop_after_apply=True, method="POST", path="/crm/v3/objects/contacts")
    hubspot_server.fail(
        status=200, body={"total": 0, "results": []}, path="/crm/v3/objects/contacts/search", times=3
    )
    log_once(client, activity())
    assert len(hubspot_server.contacts) == 1
    assert len(hubspot_server.notes) == 1


def test_find_activity_when_nothing_was_logged(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN)
    assert client.find_activity(activity()) is None
    client.log_activity(activity("other"))
    assert client.find_activity(activity()) is None


def test_note_carries_no_message_body(hubspot_server: HubSpotServer) -> None:
    crm(hubspot_server, "hubspot", TOKEN).log_activity(activity())
    for recorded in hubspot_server.recorded():
        assert b"4111" not in recorded.body
        assert BODY_TEXT.encode() not in recorded.body


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, RemoteNotFoundError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_error_statuses(hubspot_server: HubSpotServer, status: int, error: type[Exception]) -> None:
    hubspot_server.fail(status=status, body={"status": "error", "message": f"nope {status}"})
    with pytest.raises(error, match=f"nope {status}"):
        crm(hubspot_server, "hubspot", TOKEN).log_activity(activity())


def test_wrong_token(hubspot_server: HubSpotServer) -> None:
    with pytest.raises(AuthenticationError, match="Authentication credentials not found"):
        crm(hubspot_server, "hubspot", "pat-wrong").log_activity(activity())
    assert not crm(hubspot_server, "hubspot", "pat-wrong").test_connection().ok


def test_429_retry_after_pauses(hubspot_server: HubSpotServer) -> None:
    hubspot_server.fail(
        status=429, body={"status": "error", "message": "TEN_SECONDLY_ROLLING"}, headers={"Retry-After": "9"}
    )
    client = crm(hubspot_server, "hubspot", TOKEN)
    with pytest.raises(RateLimitedError) as caught:
        client.log_activity(activity())
    assert caught.value.retry_after == 9.0
    assert client.limiter.paused_for > 7  # type: ignore[attr-defined]


def test_timeouts(hubspot_server: HubSpotServer) -> None:
    client = crm(hubspot_server, "hubspot", TOKEN, timeout_s=1.0)
    hubspot_server.fail(delay_s=5, path="/crm/v3/objects/contacts/search")
    with pytest.raises(ConnectorTimeoutError) as caught:
        client.log_activity(activity())
    assert isinstance(caught.value, TransientError)
    hubspot_server.fail(delay_s=5, method="POST", path="/crm/v3/objects/notes")
    with pytest.raises(ConnectorOutcomeUnknownError):
        client.log_activity(activity())


def test_malformed_json(hubspot_server: HubSpotServer) -> None:
    hubspot_server.fail(malformed=True)
    with pytest.raises(MalformedResponseError):
        crm(hubspot_server, "hubspot", TOKEN).log_activity(activity())


def test_missing_token_sends_nothing(hubspot_server: HubSpotServer) -> None:
    with pytest.raises(AuthenticationError, match="No token is stored"):
        crm(hubspot_server, "hubspot", "").log_activity(activity())
    assert hubspot_server.requests == []


def test_test_connection(hubspot_server: HubSpotServer) -> None:
    result = crm(hubspot_server, "hubspot", TOKEN).test_connection()
    assert result.ok and "HubSpot" in result.message


def test_other_hosts_are_refused(hubspot_server: HubSpotServer) -> None:
    events: list[EgressEvent] = []
    client = crm(hubspot_server, "hubspot", TOKEN, events=events, base_url="https://api.hubapi.com")
    with pytest.raises(EgressDeniedError):
        client.log_activity(activity())
    assert [(e.host, e.allowed, e.purpose) for e in events] == [("api.hubapi.com", False, "crm:hubspot")]
