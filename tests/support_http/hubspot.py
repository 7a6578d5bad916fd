"""A fake HubSpot CRM API: contacts and notes (create, search, associations, batch read)."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, datetime
from typing import Any

from tests.support_http.server import LoopbackServer, RecordedRequest

_CONTACT = re.compile(r"^/crm/v4/objects/contacts/(\d+)/associations/notes$")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _tokens(text: str) -> set[str]:
    return {t.lower() for t in re.split(r"[^0-9A-Za-z]+", re.sub(r"<[^>]*>", " ", text)) if t}


class HubSpotServer(LoopbackServer):
    """Implements the endpoints the HubSpot connector uses, with HubSpot's request/response shapes.

    ``search_lag`` makes notes invisible to search for that many further requests after they are
    created (HubSpot's search index is eventually consistent); reads by id and associations are
    immediate.
    """

    service = "hubspot"

    def __init__(self, *, token: str = "pat-na1-test", host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.token = token
        self.contacts: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.note_contacts: dict[str, list[str]] = {}
        self.search_lag = 0
        self._visible_after: dict[str, int] = {}
        self._ids = itertools.count(501)
        self._state = threading.Lock()
        self._clock = 0

    def handle(self, request: RecordedRequest) -> tuple[int, Any]:
        with self._state:
            self._clock += 1
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return 401, {
                    "status": "error",
                    "message": "Authentication credentials not found.",
                    "category": "INVALID_AUTHENTICATION",
                }
            return self._route(request)

    def _route(self, request: RecordedRequest) -> tuple[int, Any]:
        key = (request.method, request.path)
        if key == ("GET", "/crm/v3/objects/contacts"):
            return 200, {"results": [self._object(i, p) for i, p in list(self.contacts.items())[:1]]}
        if key == ("POST", "/crm/v3/objects/contacts/search"):
            return self._search_contacts(request.json())
        if key == ("POST", "/crm/v3/objects/contacts"):
            return self._create_contact(request.json())
        if key == ("POST", "/crm/v3/objects/notes"):
            return self._create_note(request.json())
        if key == ("POST", "/crm/v3/objects/notes/search"):
            return self._search_notes(request.json())
        if key == ("POST", "/crm/v3/objects/notes/batch/read"):
            return self._read_notes(request.json())
        match = _CONTACT.match(request.path)
        if request.method == "GET" and match:
            contact_id = match.group(1)
            if contact_id not in self.contacts:
                return 404, {
                    "status": "error",
                    "message": "resource not found",
                    "category": "OBJECT_NOT_FOUND",
                }
            ids = [n for n, contacts in self.note_contacts.items() if contact_id in contacts]
            return 200, {
                "results": [
                    {
                        "toObjectId": int(n),
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 202, "label": None}],
                    }
                    for n in ids
                ]
            }
        return 404, {
            "status": "error",
            "message": f"Unknown endpoint {request.path}",
            "category": "NOT_FOUND",
        }

    @staticmethod
    def _object(object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": object_id,
            "properties": dict(properties),
            "createdAt": properties.get("createdate", _now()),
            "updatedAt": _now(),
            "archived": False,
        }

    @staticmethod
    def _filters(body: Any) -> list[dict[str, Any]]:
        groups = body.get("filterGroups") if isinstance(body, dict) else None
        if not isinstance(groups, list) or not groups:
            raise ValueError("filterGroups required")
        return [f for group in groups for f in group.get("filters", [])]

    def _search_contacts(self, body: Any) -> tuple[int, Any]:
        filters = self._filters(body)
        wanted = [f for f in filters if f.get("propertyName") == "email" and f.get("operator") == "EQ"]
        if not wanted:
            return 400, {"status": "error", "message": "unsupported filter", "category": "VALIDATION_ERROR"}
        value = str(wanted[0].get("value", "")).lower()
        results = [
            self._object(i, p) for i, p in self.contacts.items() if p.get("email", "").lower() == value
        ]
        return 200, {"total": len(results), "results": results[: int(body.get("limit", 10))]}

    def _create_contact(self, body: Any) -> tuple[int, Any]:
        properties = dict(body.get("properties") or {})
        email = str(properties.get("email", "")).lower()
        for contact_id, existing in self.contacts.items():
            if existing.get("email", "").lower() == email:
                return 409, {
                    "status": "error",
                    "message": f"Contact already exists. Existing ID: {contact_id}",
                    "category": "CONFLICT",
                }
        contact_id = str(next(self._ids))
        properties["createdate"] = _now()
        self.contacts[contact_id] = properties
        return 201, self._object(contact_id, properties)

    def _create_note(self, body: Any) -> tuple[int, Any]:
        properties = dict(body.get("properties") or {})
        if "hs_timestamp" not in properties or "hs_note_body" not in properties:
            return 400, {
                "status": "error",
                "message": "hs_timestamp and hs_note_body are required",
                "category": "VALIDATION_ERROR",
            }
        contacts: list[str] = []
        for association in body.get("associations") or []:
            types = association.get("types") or []
            if not any(
                t.get("associationCategory") == "HUBSPOT_DEFINED" and t.get("associationTypeId") == 202
                for t in types
            ):
                return 400, {
                    "status": "error",
                    "message": "invalid association type",
                    "category": "VALIDATION_ERROR",
                }
            contact_id = str(association.get("to", {}).get("id"))
            if contact_id not in self.contacts:
                return 404, {
                    "status": "error",
                    "message": "contact not found",
                    "category": "OBJECT_NOT_FOUND",
                }
            contacts.append(contact_id)
        note_id = str(next(self._ids))
        self.notes[note_id] = properties
        self.note_contacts[note_id] = contacts
        self._visible_after[note_id] = self._clock + self.search_lag
        return 201, self._object(note_id, properties)

    def _search_notes(self, body: Any) -> tuple[int, Any]:
        filters = self._filters(body)
        wanted = [
            f
            for f in filters
            if f.get("propertyName") == "hs_note_body" and f.get("operator") == "CONTAINS_TOKEN"
        ]
        if not wanted:
            return 400, {"status": "error", "message": "unsupported filter", "category": "VALIDATION_ERROR"}
        token = str(wanted[0].get("value", "")).lower()
        results = [
            self._object(i, p)
            for i, p in self.notes.items()
            if token in _tokens(str(p.get("hs_note_body", ""))) and self._visible_after[i] < self._clock
        ]
        return 200, {"total": len(results), "results": results}

    def _read_notes(self, body: Any) -> tuple[int, Any]:
        ids = [str(item.get("id")) for item in body.get("inputs") or []]
        results = [self._object(i, self.notes[i]) for i in ids if i in self.notes]
        return 200, {"status": "COMPLETE", "results": results, "startedAt": _now(), "completedAt": _now()}
