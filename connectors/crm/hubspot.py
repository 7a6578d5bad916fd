"""HubSpot: find or create the contact by email, log the email as a note associated to it.

Private-app token as ``Authorization: Bearer``. Endpoints: ``POST /crm/v3/objects/contacts/search``
(email ``EQ``), ``POST /crm/v3/objects/contacts`` (409 "Contact already exists. Existing ID: n"
is taken as the contact), ``POST /crm/v3/objects/notes`` with ``hs_timestamp``, ``hs_note_body``
and an association to the contact (``HUBSPOT_DEFINED`` type 202, note → contact).

Reconcile: ``POST /crm/v3/objects/notes/search`` for the marker (``CONTAINS_TOKEN``); HubSpot's
search index lags a few seconds behind writes, so when search finds nothing the contact's
associated notes are read directly (``GET /crm/v4/objects/contacts/{id}/associations/notes`` and
``POST /crm/v3/objects/notes/batch/read``), which is immediately consistent.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from connectors.crm.base import CrmBase, activity_marker, note_html
from connectors.errors import ConflictError, MalformedResponseError
from connectors.http import ConnectionTestResult
from engine.ports import CrmActivity, EffectReceipt

#: HubSpot's association type for note → contact.
NOTE_TO_CONTACT = 202
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
#: A contact's notes read at most when reconciling (HubSpot pages associations by 500).
_MAX_NOTES_CHECKED = 2000


class HubSpotCrm(CrmBase):
    """An :class:`engine.ports.CrmClient` for HubSpot (private-app token)."""

    label = "HubSpot"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret()}"}

    # --- engine.ports.CrmClient --------------------------------------------------------------

    def log_activity(self, activity: CrmActivity) -> EffectReceipt:
        """Find or create the contact, then create the note (once: see the module docstring)."""
        contact_id = self.find_contact(activity.email_address) or self._create_contact(activity)
        occurred = (
            activity.occurred_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        body = {
            "properties": {"hs_timestamp": occurred, "hs_note_body": note_html(activity)},
            "associations": [
                {
                    "to": {"id": contact_id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
                    ],
                }
            ],
        }
        response = self._send(
            "POST", "/crm/v3/objects/notes", json=body, headers=self._auth(), applies_effect=True
        )
        return self._receipt(_object_id(self._json(response), self.label), contact_id)

    def find_activity(self, activity: CrmActivity) -> EffectReceipt | None:
        """The note carrying this activity's marker, if one was created."""
        marker = activity_marker(activity.idempotency_key)
        search = {
            "filterGroups": [
                {"filters": [{"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": marker}]}
            ],
            "properties": ["hs_note_body"],
            "limit": 10,
        }
        data = self._json(
            self._send("POST", "/crm/v3/objects/notes/search", json=search, headers=self._auth())
        )
        for note in _results(data):
            if marker in str(note.get("properties", {}).get("hs_note_body", "")):
                return self._receipt(str(note["id"]), None)
        contact_id = self.find_contact(activity.email_address)
        if contact_id is None:
            return None
        return self._find_in_contact_notes(contact_id, marker)

    def test_connection(self) -> ConnectionTestResult:
        """Read one contact to prove the token works and has the contacts scope."""

        def probe() -> str:
            self._send("GET", "/crm/v3/objects/contacts", params={"limit": 1}, headers=self._auth())
            return f"Connected to HubSpot at {self.destination}."

        return self._test(probe)

    # --- contacts and notes ------------------------------------------------------------------

    def find_contact(self, email: str) -> str | None:
        """The id of the contact with this email address, if any."""
        search = {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": email.lower()}]}
            ],
            "properties": ["email"],
            "limit": 1,
        }
        data = self._json(
            self._send("POST", "/crm/v3/objects/contacts/search", json=search, headers=self._auth())
        )
        results = _results(data)
        return str(results[0]["id"]) if results else None

    def _create_contact(self, activity: CrmActivity) -> str:
        first, _, last = activity.contact_name.strip().partition(" ")
        properties = {"email": activity.email_address.lower(), "firstname": first, "lastname": last.strip()}
        if activity.company:
            properties["company"] = activity.company
        try:
            response = self._send(
                "POST",
                "/crm/v3/objects/contacts",
                json={"properties": {k: v for k, v in properties.items() if v}},
                headers=self._auth(),
                applies_effect=True,
            )
        except ConflictError as exc:
            existing = _EXISTING_ID.search(str(exc))
            found = existing.group(1) if existing else self.find_contact(activity.email_address)
            if found is None:
                raise
            return found
        return _object_id(self._json(response), self.label)

    def _contact_note_ids(self, contact_id: str) -> list[str]:
        path = f"/crm/v4/objects/contacts/{contact_id}/associations/notes"
        ids: list[str] = []
        params: dict[str, str | int] = {"limit": 500}
        while True:
            data = self._json(self._send("GET", path, params=params, headers=self._auth()))
            ids.extend(str(item.get("toObjectId")) for item in _results(data))
            paging = data.get("paging")
            after = paging.get("next", {}).get("after") if isinstance(paging, dict) else None
            if not after or len(ids) >= _MAX_NOTES_CHECKED:
                return ids
            params = {"limit": 500, "after": str(after)}

    def _find_in_contact_notes(self, contact_id: str, marker: str) -> EffectReceipt | None:
        ids = self._contact_note_ids(contact_id)
        for start in range(0, len(ids), 100):
            batch = {"properties": ["hs_note_body"], "inputs": [{"id": i} for i in ids[start : start + 100]]}
            data = self._json(
                self._send("POST", "/crm/v3/objects/notes/batch/read", json=batch, headers=self._auth())
            )
            for note in _results(data):
                if marker in str(note.get("properties", {}).get("hs_note_body", "")):
                    return self._receipt(str(note["id"]), contact_id)
        return None

    def _receipt(self, note_id: str, contact_id: str | None) -> EffectReceipt:
        detail: dict[str, Any] = {"object": "note"}
        if contact_id is not None:
            detail["contact_id"] = contact_id
        return EffectReceipt(external_id=note_id, destination=self.destination, detail=detail)


def _results(data: dict[str, Any]) -> list[dict[str, Any]]:
    results = data.get("results")
    if not isinstance(results, list):
        return []
    return [r for r in results if isinstance(r, dict) and ("id" in r or "toObjectId" in r)]


def _object_id(data: dict[str, Any], label: str) -> str:
    object_id = data.get("id")
    if object_id is None or str(object_id) == "":
        raise MalformedResponseError(f"{label} answered without an object id")
    return str(object_id)
