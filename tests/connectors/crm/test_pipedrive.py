"""Pipedrive against a loopback server implementing persons and notes."""

from __future__ import annotations

import pytest

from connectors.crm import activity_marker
from connectors.errors import (
    AuthenticationError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    ConnectorTimeoutError,
    MalformedResponseError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
)
from engine.ports import CrmClient
from tests.connectors.crm.helpers import BODY_TEXT, activity, crm, log_once
from tests.support_http.pipedrive import PipedriveServer

TOKEN = "pd-test-token"


def test_creates_person_and_note(pipedrive_server: PipedriveServer) -> None:
    client = crm(pipedrive_server, "pipedrive", TOKEN)
    assert isinstance(client, CrmClient)
    receipt = client.log_activity(activity())
    [(person_id, person)] = pipedrive_server.persons.items()
    assert person["name"] == "Priya Patel"
    assert person["email"] == [{"value": "priya@redlandphysio.co.uk", "primary": True, "label": "work"}]
    note = pipedrive_server.notes[int(receipt.external_id)]
    assert note["person_id"] == person_id
    assert activity_marker("run-7/crm") in note["content"]
    assert receipt.detail == {"object": "note", "person_id": person_id}
    search = pipedrive_server.recorded("GET", "/api/v1/persons/search")[0]
    assert search.query["term"] == ["priya@redlandphysio.co.uk"]
    assert search.query["fields"] == ["email"]
    assert search.headers["x-api-token"] == TOKEN
    assert "api_token" not in search.query


def test_token_in_query_when_configured(pipedrive_server: PipedriveServer) -> None:
    crm(pipedrive_server, "pipedrive", TOKEN, token_in_query=True).log_activity(activity())
    for recorded in pipedrive_server.recorded():
        assert recorded.query["api_token"] == [TOKEN]
        assert "x-api-token" not in recorded.headers


def test_existing_person_is_reused(pipedrive_server: PipedriveServer) -> None:
    client = crm(pipedrive_server, "pipedrive", TOKEN)
    client.log_activity(activity("a"))
    client.log_activity(activity("b"))
    assert len(pipedrive_server.persons) == 1
    assert len(pipedrive_server.notes) == 2


def test_lost_note_response_is_not_duplicated_across_pages() -> None:
    with PipedriveServer(page_size=2) as server:
        client = crm(server, "pipedrive", TOKEN)
        for key in ("old-1", "old-2", "old-3"):
            client.log_activity(activity(key))
        server.fail(drop_after_apply=True, method="POST", path="/api/v1/notes")
        with pytest.raises(ConnectorOutcomeUnknownError):
            client.log_activity(activity())
        assert len(server.notes) == 4
        receipt = log_once(client, activity(), after_unknown=True)
        assert len(server.notes) == 4
        assert activity_marker("run-7/crm") in server.notes[int(receipt.external_id)]["content"]
        starts = [r.query["start"][0] for r in server.recorded("GET", "/api/v1/notes")]
        assert starts == ["0", "2"]


def test_find_activity_without_person_or_note(pipedrive_server: PipedriveServer) -> None:
    client = crm(pipedrive_server, "pipedrive", TOKEN)
    assert client.find_activity(activity()) is None
    client.log_activity(activity("other"))
    assert client.find_activity(activity()) is None


def test_note_carries_no_message_body(pipedrive_server: PipedriveServer) -> None:
    crm(pipedrive_server, "pipedrive", TOKEN).log_activity(activity())
    for recorded in pipedrive_server.recorded():
        assert b"4111" not in recorded.body and BODY_TEXT.encode() not in recorded.body


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (404, RemoteNotFoundError), (500, ServerError), (503, ServerError)],
)
def test_error_statuses(pipedrive_server: PipedriveServer, status: int, error: type[Exception]) -> None:
    pipedrive_server.fail(
        status=status, body={"success": False, "error": f"nope {status}", "errorCode": status}
    )
    with pytest.raises(error, match=f"nope {status}"):
        crm(pipedrive_server, "pipedrive", TOKEN).log_activity(activity())


def test_wrong_token(pipedrive_server: PipedriveServer) -> None:
    with pytest.raises(AuthenticationError, match="authorized"):
        crm(pipedrive_server, "pipedrive", "wrong").log_activity(activity())
    result = crm(pipedrive_server, "pipedrive", "wrong").test_connection()
    assert not result.ok and "refused the token" in result.message


def test_success_false_is_permanent(pipedrive_server: PipedriveServer) -> None:
    pipedrive_server.fail(status=200, body={"success": False, "error": "Bad request"})
    with pytest.raises(ConnectorPermanentError, match="Bad request"):
        crm(pipedrive_server, "pipedrive", TOKEN).log_activity(activity())


def test_429_retry_after(pipedrive_server: PipedriveServer) -> None:
    pipedrive_server.fail(
        status=429, body={"success": False, "error": "Too many requests"}, headers={"Retry-After": "2"}
    )
    client = crm(pipedrive_server, "pipedrive", TOKEN)
    with pytest.raises(RateLimitedError) as caught:
        client.log_activity(activity())
    assert caught.value.retry_after == 2.0
    assert client.limiter.paused_for > 1  # type: ignore[attr-defined]


def test_timeouts(pipedrive_server: PipedriveServer) -> None:
    client = crm(pipedrive_server, "pipedrive", TOKEN, timeout_s=1.0)
    pipedrive_server.fail(delay_s=5, path="/api/v1/persons/search")
    with pytest.raises(ConnectorTimeoutError):
        client.log_activity(activity())
    pipedrive_server.fail(delay_s=5, method="POST", path="/api/v1/persons")
    with pytest.raises(ConnectorOutcomeUnknownError):
        client.log_activity(activity())


def test_malformed_json(pipedrive_server: PipedriveServer) -> None:
    pipedrive_server.fail(malformed=True)
    with pytest.raises(MalformedResponseError):
        crm(pipedrive_server, "pipedrive", TOKEN).log_activity(activity())


def test_test_connection(pipedrive_server: PipedriveServer) -> None:
    result = crm(pipedrive_server, "pipedrive", TOKEN).test_connection()
    assert result.ok
    assert result.message == "Connected to Pipedrive as Office Admin (Thornbury & Webb)."
