"""A fake Pipedrive API v1: persons (search, create), notes (create, list by person), users/me."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from tests.support_http.server import LoopbackServer, RecordedRequest


def _fail(status: int, message: str) -> tuple[int, Any]:
    return status, {
        "success": False,
        "error": message,
        "errorCode": status,
        "error_info": "See developers.pipedrive.com",
    }


class PipedriveServer(LoopbackServer):
    """Implements the endpoints the Pipedrive connector uses, with Pipedrive's response shapes.

    Accepts the token as ``x-api-token`` header or ``api_token`` query parameter. ``page_size``
    caps the notes list so pagination is exercised.
    """

    service = "pipedrive"

    def __init__(
        self, *, token: str = "pd-test-token", host: str = "127.0.0.1", page_size: int = 100
    ) -> None:
        super().__init__(host)
        self.token = token
        self.page_size = page_size
        self.persons: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(101)
        self._state = threading.Lock()

    def handle(self, request: RecordedRequest) -> tuple[int, Any]:
        token = request.headers.get("x-api-token") or (request.query.get("api_token") or [""])[0]
        if token != self.token:
            return _fail(401, "You need to be authorized to make this request.")
        with self._state:
            return self._route(request)

    def _route(self, request: RecordedRequest) -> tuple[int, Any]:
        key = (request.method, request.path)
        if key == ("GET", "/api/v1/users/me"):
            return 200, {
                "success": True,
                "data": {
                    "id": 1,
                    "name": "Office Admin",
                    "company_name": "Thornbury & Webb",
                    "company_domain": "thornburywebb",
                },
            }
        if key == ("GET", "/api/v1/persons/search"):
            return self._search(request)
        if key == ("POST", "/api/v1/persons"):
            return self._create_person(request.json())
        if key == ("POST", "/api/v1/notes"):
            return self._create_note(request.json())
        if key == ("GET", "/api/v1/notes"):
            return self._list_notes(request)
        return _fail(404, "Unknown method .")

    def _search(self, request: RecordedRequest) -> tuple[int, Any]:
        term = (request.query.get("term") or [""])[0].lower()
        if len(term) < 2:
            return _fail(400, "term must be at least 2 characters")
        fields = (request.query.get("fields") or ["email"])[0]
        items = []
        for person_id, person in self.persons.items():
            emails = [e["value"].lower() for e in person["email"]]
            if "email" in fields and term in emails:
                items.append(
                    {
                        "result_score": 1.0,
                        "item": {
                            "id": person_id,
                            "type": "person",
                            "name": person["name"],
                            "emails": emails,
                            "phones": [],
                        },
                    }
                )
        return 200, {
            "success": True,
            "data": {"items": items},
            "additional_data": {"pagination": {"start": 0, "limit": 100, "more_items_in_collection": False}},
        }

    def _create_person(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body.get("name"):
            return _fail(400, "Name must be given.")
        raw = body.get("email") or []
        emails = [{"value": raw, "primary": True, "label": "work"}] if isinstance(raw, str) else list(raw)
        person_id = next(self._ids)
        self.persons[person_id] = {"id": person_id, "name": body["name"], "email": emails}
        return 201, {"success": True, "data": self.persons[person_id]}

    def _create_note(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not body.get("content"):
            return _fail(400, "Content must be given.")
        person_id = body.get("person_id")
        if person_id is not None and person_id not in self.persons:
            return _fail(404, "Person not found.")
        note_id = next(self._ids)
        self.notes[note_id] = {
            "id": note_id,
            "content": body["content"],
            "person_id": person_id,
            "add_time": "2026-11-30 09:00:00",
        }
        return 201, {"success": True, "data": self.notes[note_id]}

    def _list_notes(self, request: RecordedRequest) -> tuple[int, Any]:
        person_id = int((request.query.get("person_id") or ["0"])[0])
        start = int((request.query.get("start") or ["0"])[0])
        limit = min(int((request.query.get("limit") or ["100"])[0]), self.page_size)
        mine = [n for n in self.notes.values() if n["person_id"] == person_id]
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        pagination: dict[str, Any] = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            pagination["next_start"] = start + limit
        return 200, {"success": True, "data": page or None, "additional_data": {"pagination": pagination}}
