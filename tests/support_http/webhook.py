"""A webhook receiver that verifies the signature and deduplicates by Idempotency-Key, as documented."""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any

from tests.support_http.server import LoopbackServer, RecordedRequest


class WebhookServer(LoopbackServer):
    """Accepts ``POST /hook``; 401 when the signature is wrong; a repeated key is acknowledged once."""

    service = "webhook"

    def __init__(
        self, *, secret: str = "whsec-test", host: str = "127.0.0.1", duplicate_status: int = 200
    ) -> None:
        super().__init__(host)
        self.secret = secret
        self.duplicate_status = duplicate_status
        self.accepted: dict[str, dict[str, Any]] = {}
        self._state = threading.Lock()

    def handle(self, request: RecordedRequest) -> tuple[int, Any]:
        if (request.method, request.path) != ("POST", "/hook"):
            return 404, {"error": "not found"}
        expected = "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-inbox-triage-signature", ""), expected):
            return 401, {"error": "bad signature"}
        key = request.headers.get("idempotency-key", "")
        if not key:
            return 400, {"error": "Idempotency-Key required"}
        with self._state:
            if key in self.accepted:
                return self.duplicate_status, {
                    "received": True,
                    "duplicate": True,
                    "id": self.accepted[key]["id"],
                }
            receipt = {"id": f"evt_{len(self.accepted) + 1}", "body": request.json()}
            self.accepted[key] = receipt
        return 200, {"received": True, "duplicate": False, "id": receipt["id"]}
