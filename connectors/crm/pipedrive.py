"""Pipedrive: find or create the person by email, log the email as a note on the person.

Token as the ``x-api-token`` header (or the ``api_token`` query parameter when configured).
Endpoints (API v1): ``GET /api/v1/persons/search?term=&fields=email&exact_term=true``,
``POST /api/v1/persons``, ``POST /api/v1/notes`` with ``person_id`` and HTML ``content`` carrying
the activity's marker. Reconcile: list the person's notes (``GET /api/v1/notes?person_id=``,
paged) and look for the marker. Pipedrive answers ``{"success": true, "data": …}``.

Pipedrive does not refuse a second person with the same email, so if a *person* creation's
response is lost and the search index has not caught up on the retry, a duplicate person is
possible; the note — the effect that matters — is still logged once.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.crm.base import CrmBase, activity_marker, note_html
from connectors.errors import ConnectorPermanentError, MalformedResponseError
from connectors.http import ConnectionTestResult
from engine.ports import CrmActivity, EffectReceipt

_PAGE = 100
_MAX_PAGES = 20


class PipedriveCrm(CrmBase):
    """An :class:`engine.ports.CrmClient` for Pipedrive (API token)."""

    label = "Pipedrive"

    def _auth(self) -> tuple[dict[str, str], dict[str, str | int]]:
        token = self.secret()
        if self.settings.token_in_query:
            return {}, {"api_token": token}
        return {"x-api-token": token}, {}

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: Any = None,
        applies_effect: bool = False,
    ) -> Any:
        headers, auth_params = self._auth()
        response = self._send(
            method,
            path,
            params={**(params or {}), **auth_params},
            json=json,
            headers=headers,
            applies_effect=applies_effect,
        )
        return _data(response, self)

    # --- engine.ports.CrmClient --------------------------------------------------------------

    def log_activity(self, activity: CrmActivity) -> EffectReceipt:
        """Find or create the person, then add the note (once: see the module docstring)."""
        person_id = self.find_person(activity.email_address) or self._create_person(activity)
        note = self._call(
            "POST",
            "/api/v1/notes",
            json={"content": note_html(activity), "person_id": person_id},
            applies_effect=True,
        )
        return self._receipt(_id(note, self.label), person_id)

    def find_activity(self, activity: CrmActivity) -> EffectReceipt | None:
        """The person's note carrying this activity's marker, if one was created."""
        person_id = self.find_person(activity.email_address)
        if person_id is None:
            return None
        marker = activity_marker(activity.idempotency_key)
        start = 0
        for _ in range(_MAX_PAGES):
            headers, auth_params = self._auth()
            response = self._send(
                "GET",
                "/api/v1/notes",
                params={"person_id": person_id, "start": start, "limit": _PAGE, **auth_params},
                headers=headers,
            )
            body = self._json(response)
            for note in _data(response, self) or []:
                if isinstance(note, dict) and marker in str(note.get("content", "")):
                    return self._receipt(_id(note, self.label), person_id)
            pagination = body.get("additional_data", {}).get("pagination", {})
            if not isinstance(pagination, dict) or not pagination.get("more_items_in_collection"):
                return None
            start = int(pagination.get("next_start", start + _PAGE))
        return None

    def test_connection(self) -> ConnectionTestResult:
        """Ask who the token belongs to."""

        def probe() -> str:
            me = self._call("GET", "/api/v1/users/me")
            who = me.get("name", "?") if isinstance(me, dict) else "?"
            company = me.get("company_name", "") if isinstance(me, dict) else ""
            return f"Connected to Pipedrive as {who}" + (f" ({company})." if company else ".")

        return self._test(probe)

    # --- persons -----------------------------------------------------------------------------

    def find_person(self, email: str) -> int | None:
        """The id of the person with this email address, if any."""
        data = self._call(
            "GET",
            "/api/v1/persons/search",
            params={"term": email.lower(), "fields": "email", "exact_term": "true", "limit": 1},
        )
        items = data.get("items") if isinstance(data, dict) else None
        for entry in items or []:
            item = entry.get("item") if isinstance(entry, dict) else None
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                return int(item["id"])
        return None

    def _create_person(self, activity: CrmActivity) -> int:
        body: dict[str, Any] = {
            "name": activity.contact_name.strip() or activity.email_address,
            "email": [{"value": activity.email_address.lower(), "primary": True, "label": "work"}],
        }
        person = self._call("POST", "/api/v1/persons", json=body, applies_effect=True)
        return int(_id(person, self.label))

    def _receipt(self, note_id: str, person_id: int) -> EffectReceipt:
        return EffectReceipt(
            external_id=note_id,
            destination=self.destination,
            detail={"object": "note", "person_id": person_id},
        )


def _data(response: httpx.Response, crm: PipedriveCrm) -> Any:
    body = crm._json(response)
    if body.get("success") is False:
        raise ConnectorPermanentError(f"Pipedrive refused the request: {str(body.get('error', ''))[:200]}")
    return body.get("data")


def _id(data: Any, label: str) -> str:
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        raise MalformedResponseError(f"{label} answered without an id")
    return str(data["id"])
