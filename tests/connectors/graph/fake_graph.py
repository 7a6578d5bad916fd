"""A loopback HTTPS server speaking the parts of Microsoft's identity platform and Graph we use.

Implements, with the documented shapes:

* sign-in: ``/{tenant}/v2.0/.well-known/openid-configuration``, ``/{tenant}/oauth2/v2.0/devicecode``
  and ``/{tenant}/oauth2/v2.0/token`` (device-code and refresh-token grants; access token,
  refresh token, id token, client info);
* mail: ``GET /v1.0/me/mailFolders/{folder}``,
  ``GET /v1.0/me/mailFolders/{folder}/messages/delta`` (pages with ``@odata.nextLink``, the
  last with ``@odata.deltaLink``; ``$filter=receivedDateTime ge``; ``Prefer: odata.maxpagesize``),
  ``GET /v1.0/me/messages/{id}/$value``, ``GET/PATCH /v1.0/me/messages/{id}``,
  ``POST /v1.0/me/messages/{id}/move``, ``GET/POST /v1.0/me/mailFolders``,
  ``POST /v1.0/me/sendMail`` (base64 MIME, ``text/plain``, 202) and
  ``GET /v1.0/me/mailFolders/sentitems/messages?$filter=internetMessageId eq '...'``.

Switches for failures: throttle the next requests (429/503 with ``Retry-After``), expire the access
tokens (401 ``InvalidAuthenticationToken``), expire delta links (410), accept a send and drop the
connection before answering, and hold requests to observe concurrency.
"""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.support.certs import CertificateBundle
from tests.support.ports import LOOPBACK

TENANT = "test-tenant"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
USER = "office@print.example"
_OID = "00000000-0000-0000-0000-0000000000aa"
_FILTER_SINCE = re.compile(r"receivedDateTime ge (\S+)")
_FILTER_EQ = re.compile(r"(\w+) eq '((?:[^']|'')*)'")


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass
class GraphMessage:
    """One message in the fake mailbox."""

    id: str
    mime: bytes
    received: datetime
    folder: str = "inbox"
    categories: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def internet_message_id(self) -> str:
        parsed = email.message_from_bytes(self.mime, policy=email.policy.default)
        return str(parsed.get("Message-ID", "")).strip()


@dataclass
class RequestRecord:
    """What the server saw of one request."""

    method: str
    path: str
    host: str
    status: int


class FakeMicrosoft:
    """State and switches of the fake; the HTTP handler below reads and changes it."""

    def __init__(self, certificates: CertificateBundle) -> None:
        self.ca_file = certificates.ca_file
        self.lock = threading.Condition()
        self.messages: list[GraphMessage] = []
        self.folders: dict[str, str] = {"inbox": "Inbox", "sentitems": "Sent Items", "archive": "Archive"}
        self.sent: list[bytes] = []
        self.requests: list[RequestRecord] = []
        self.access_tokens: dict[str, bool] = {}  # token -> still valid
        self.refresh_tokens: set[str] = set()
        self.grants: list[str] = []
        self.device_codes: dict[str, bool] = {}  # device code -> approved
        self.device_scopes: dict[str, str] = {}
        self.approve_device_codes = True
        self.delta_states: dict[str, tuple[set[str], list[str] | None, str]] = {}
        self.throttles: list[tuple[int, str]] = []
        self.drop_sends_after_accept = 0
        self.inflight = 0
        self.max_inflight = 0
        self.hold = threading.Event()
        self.hold.set()
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        context = certificates.server_context()
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def origin(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def graph_url(self) -> str:
        return f"{self.origin}/v1.0"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # --- test switches ---------------------------------------------------------------------------

    def deliver(
        self, mime: bytes, *, received: datetime | None = None, folder: str = "inbox"
    ) -> GraphMessage:
        """Put a message in a folder (immutable id: it survives moves)."""
        with self.lock:
            message = GraphMessage(
                id=f"AAMk-{next(self._ids):04d}-{secrets.token_hex(4)}",
                mime=mime,
                received=received or datetime.now(UTC),
                folder=folder,
            )
            self.messages.append(message)
            return message

    def throttle(self, count: int = 1, *, status: int = 429, retry_after: str = "1") -> None:
        """Answer the next ``count`` Graph requests with ``status`` and ``Retry-After``."""
        with self.lock:
            self.throttles.extend([(status, retry_after)] * count)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now expired (as if an hour had passed)."""
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = False

    def expire_delta_links(self) -> None:
        """Every next/delta link issued so far now answers 410 Gone."""
        with self.lock:
            self.delta_states.clear()

    def message(self, message_id: str) -> GraphMessage:
        with self.lock:
            return next(m for m in self.messages if m.id == message_id)

    def graph_requests(self, prefix: str = "/v1.0/") -> list[RequestRecord]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    # --- tokens ----------------------------------------------------------------------------------

    def issue_tokens(self, scope: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        now = int(time.time())
        self.access_tokens[access] = True
        self.refresh_tokens.add(refresh)
        claims = {
            "iss": f"{self.origin}/{TENANT}/v2.0",
            "aud": CLIENT_ID,
            "sub": "subject-1",
            "oid": _OID,
            "tid": TENANT,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "preferred_username": USER,
            "name": "Print Studio Office",
        }
        return {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}.",
            "client_info": _b64url({"uid": _OID, "utid": TENANT}),
        }


@pytest.fixture
def fake_microsoft(tls_certificates: CertificateBundle) -> Iterator[FakeMicrosoft]:
    """A started fake Microsoft identity platform + Graph on a loopback HTTPS port."""
    fake = FakeMicrosoft(tls_certificates)
    fake.start()
    yield fake
    fake.stop()


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the fake's state."""

    protocol_version = "HTTP/1.1"
    server: Any

    @property
    def fake(self) -> FakeMicrosoft:
        fake: FakeMicrosoft = self.server.fake
        return fake

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # --- plumbing --------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._current = (method, url.path)
        if url.path.startswith(f"/{TENANT}/"):
            self._identity(method, url.path, body)
        elif url.path.startswith("/v1.0/"):
            self._graph(method, url.path[len("/v1.0") :], query, body)
        else:
            self._json(404, {"error": "not found"})

    def send_response(self, code: int, message: str | None = None) -> None:
        """Record the request with its status before the client can see the answer."""
        self._record(code)
        super().send_response(code, message)

    def _record(self, status: int) -> None:
        method, path = self._current
        with self.fake.lock:
            self.fake.requests.append(RequestRecord(method, path, self.headers.get("Host", ""), status))

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> int:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def _bytes(self, status: int, data: bytes, content_type: str) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return status

    def _empty(self, status: int) -> int:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return status

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> int:
        return self._json(status, {"error": {"code": code, "message": message}}, headers)

    # --- identity platform -----------------------------------------------------------------------

    def _identity(self, method: str, path: str, body: bytes) -> int:
        fake = self.fake
        base = f"{fake.origin}/{TENANT}"
        if method == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):
            return self._json(
                200,
                {
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "tenant_region_scope": "EU",
                },
            )
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        if method == "POST" and path.endswith("/oauth2/v2.0/devicecode"):
            code = secrets.token_urlsafe(8)
            with fake.lock:
                fake.device_codes[code] = fake.approve_device_codes
                fake.device_scopes[code] = form.get("scope", "")
            return self._json(
                200,
                {
                    "device_code": code,
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 1,
                    "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
                },
            )
        if method == "POST" and path.endswith("/oauth2/v2.0/token"):
            return self._token(form)
        return self._json(404, {"error": "not_found"})

    def _token(self, form: dict[str, str]) -> int:
        fake = self.fake
        grant = form.get("grant_type", "")
        with fake.lock:
            fake.grants.append(grant)
            if form.get("client_id") != CLIENT_ID:
                return self._json(400, {"error": "invalid_client", "error_description": "unknown client"})
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                approved = fake.device_codes.get(form.get("device_code", ""))
                if approved is None:
                    return self._json(400, {"error": "expired_token", "error_description": "unknown code"})
                if not approved:
                    return self._json(400, {"error": "authorization_pending", "error_description": "pending"})
                return self._json(200, fake.issue_tokens(fake.device_scopes[form["device_code"]]))
            if grant == "refresh_token":
                if form.get("refresh_token") not in fake.refresh_tokens:
                    return self._json(
                        400, {"error": "invalid_grant", "error_description": "AADSTS70008: expired"}
                    )
                fake.refresh_tokens.discard(form["refresh_token"])
                return self._json(200, fake.issue_tokens(form.get("scope", "")))
        return self._json(400, {"error": "unsupported_grant_type"})

    # --- Graph -----------------------------------------------------------------------------------

    def _graph(self, method: str, path: str, query: dict[str, str], body: bytes) -> int:
        fake = self.fake
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        with fake.lock:
            valid = fake.access_tokens.get(token)
            throttle = fake.throttles.pop(0) if fake.throttles and valid else None
        if not valid:
            message = "Lifetime validation failed, the token is expired." if valid is False else "no token"
            return self._error(401, "InvalidAuthenticationToken", message)
        if throttle is not None:
            status, retry_after = throttle
            code = "ApplicationThrottled" if status == 429 else "ServiceUnavailable"
            return self._error(status, code, "Too many requests", {"Retry-After": retry_after})
        with fake.lock:
            fake.inflight += 1
            fake.max_inflight = max(fake.max_inflight, fake.inflight)
            fake.lock.notify_all()
        try:
            fake.hold.wait(10)
            return self._route(method, path, query, body)
        finally:
            with fake.lock:
                fake.inflight -= 1
                fake.lock.notify_all()

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> int:
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["me"]:
            return self._error(404, "ResourceNotFound", "unknown path")
        rest = parts[1:]
        if method == "POST" and rest == ["sendMail"]:
            return self._send_mail(body)
        if rest[:1] == ["mailFolders"]:
            return self._folders(method, rest[1:], query, body)
        if rest[:1] == ["messages"] and len(rest) >= 2:
            return self._message(method, rest[1], rest[2:], body)
        return self._error(404, "ResourceNotFound", "unknown path")

    def _send_mail(self, body: bytes) -> int:
        fake = self.fake
        if self.headers.get("Content-Type", "").split(";")[0] != "text/plain":
            return self._error(400, "ErrorMimeContentInvalid", "expected base64 MIME as text/plain")
        try:
            mime = base64.b64decode(body, validate=True)
        except ValueError:
            return self._error(400, "ErrorMimeContentInvalidBase64String", "invalid base64")
        with fake.lock:
            fake.sent.append(mime)
            drop = fake.drop_sends_after_accept > 0
            if drop:
                fake.drop_sends_after_accept -= 1
        fake.deliver(mime, folder="sentitems")
        if drop:
            self._record(0)
            self.close_connection = True
            return 0  # accepted, but the client never hears it
        return self._empty(202)

    def _folders(self, method: str, rest: list[str], query: dict[str, str], body: bytes) -> int:
        fake = self.fake
        if not rest:
            if method == "POST":
                name = json.loads(body)["displayName"]
                folder_id = f"folder-{secrets.token_hex(4)}"
                with fake.lock:
                    fake.folders[folder_id] = name
                return self._json(201, {"id": folder_id, "displayName": name})
            wanted = _filter_eq(query.get("$filter", "")).get("displayName")
            with fake.lock:
                found = [
                    {"id": i, "displayName": n}
                    for i, n in fake.folders.items()
                    if wanted is None or n == wanted
                ]
            return self._json(200, {"value": found})
        folder = rest[0].lower()
        if rest[1:] == [] and method == "GET":
            with fake.lock:
                if folder not in fake.folders:
                    return self._error(404, "ErrorItemNotFound", "The specified folder could not be found.")
                count = sum(1 for m in fake.messages if m.folder == folder)
                return self._json(
                    200, {"id": folder, "displayName": fake.folders[folder], "totalItemCount": count}
                )
        if rest[1:] == ["messages", "delta"] and method == "GET":
            return self._delta(folder, query)
        if rest[1:] == ["messages"] and method == "GET":
            wanted_id = _filter_eq(query.get("$filter", "")).get("internetMessageId")
            with fake.lock:
                items = [m for m in fake.messages if m.folder == folder]
            if wanted_id is not None:
                items = [m for m in items if m.internet_message_id == wanted_id]
            return self._json(
                200, {"value": [{"id": m.id, "internetMessageId": m.internet_message_id} for m in items]}
            )
        return self._error(404, "ResourceNotFound", "unknown folder path")

    def _delta(self, folder: str, query: dict[str, str]) -> int:
        fake = self.fake
        prefer = self.headers.get("Prefer", "")
        size_match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        page_size = int(size_match.group(1)) if size_match else 10
        with fake.lock:
            if "$skiptoken" in query or "$deltatoken" in query:
                key = query.get("$skiptoken") or query.get("$deltatoken") or ""
                state = fake.delta_states.get(key)
                if state is None:
                    return self._error(410, "SyncStateNotFound", "The sync state is no longer valid")
                seen, pending, since = state
            else:
                match = _FILTER_SINCE.search(query.get("$filter", ""))
                since = match.group(1) if match else ""
                seen, pending = set(), None
            if pending is None:  # a new round: everything in the folder not yet reported
                floor = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
                pending = [
                    m.id
                    for m in fake.messages
                    if m.folder == folder and m.id not in seen and (floor is None or m.received >= floor)
                ]
            page, pending = pending[:page_size], pending[page_size:]
            seen = seen | set(page)
            token = secrets.token_urlsafe(8)
            items = []
            for message_id in page:
                message = next(m for m in fake.messages if m.id == message_id)
                items.append(
                    {
                        "@odata.type": "#microsoft.graph.message",
                        "id": message.id,
                        "internetMessageId": message.internet_message_id,
                        "receivedDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
            link = f"{fake.graph_url}/me/mailFolders/{folder}/messages/delta"
            body: dict[str, Any] = {"value": items}
            if pending:
                fake.delta_states[token] = (seen, pending, since)
                body["@odata.nextLink"] = f"{link}?$skiptoken={quote(token)}"
            else:
                fake.delta_states[token] = (seen, None, since)
                body["@odata.deltaLink"] = f"{link}?$deltatoken={quote(token)}"
        return self._json(200, body)

    def _message(self, method: str, message_id: str, rest: list[str], body: bytes) -> int:
        fake = self.fake
        with fake.lock:
            message = next((m for m in fake.messages if m.id == message_id), None)
        if message is None:
            return self._error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if rest == ["$value"] and method == "GET":
            return self._bytes(200, message.mime, "text/plain")
        if rest == ["move"] and method == "POST":
            destination = json.loads(body)["destinationId"]
            with fake.lock:
                if destination not in fake.folders:
                    return self._error(400, "ErrorInvalidIdMalformed", "bad folder id")
                message.folder = destination
            return self._json(201, {"id": message.id, "parentFolderId": destination})
        if not rest and method == "GET":
            return self._json(200, {"id": message.id, "categories": list(message.categories)})
        if not rest and method == "PATCH":
            changes = json.loads(body)
            with fake.lock:
                if "categories" in changes:
                    message.categories = list(changes["categories"])
                for prop in changes.get("singleValueExtendedProperties", []):
                    message.properties[prop["id"]] = prop["value"]
            return self._json(200, {"id": message.id, "categories": message.categories})
        return self._error(405, "MethodNotAllowed", "unsupported")


def _filter_eq(expression: str) -> dict[str, str]:
    return {name: value.replace("''", "'") for name, value in _FILTER_EQ.findall(expression)}


__all__ = ["CLIENT_ID", "TENANT", "USER", "FakeMicrosoft", "fake_microsoft"]
