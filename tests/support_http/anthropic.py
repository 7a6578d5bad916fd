"""A fake Anthropic Messages API (``POST /v1/messages``)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from tests.support_http.openai import tokens
from tests.support_http.server import LoopbackServer, RecordedRequest

Responder = Callable[[dict[str, Any]], str]

_IDS = itertools.count(1)


def error_body(kind: str, message: str) -> dict[str, Any]:
    """Anthropic's error shape."""
    return {"type": "error", "error": {"type": kind, "message": message}}


class AnthropicServer(LoopbackServer):
    """``POST /v1/messages`` checking ``x-api-key`` and ``anthropic-version``; answers with text blocks.

    ``responder`` returns the text of the answer for a request body; ``blocks`` overrides the
    content blocks entirely (e.g. several text blocks).
    """

    service = "anthropic"

    def __init__(
        self,
        *,
        api_key: str = "sk-ant-test",
        responder: Responder | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.api_key = api_key
        self.responder: Responder = responder or (lambda body: '{"subject": "Re: hi", "body": "Hello"}')
        self.blocks: list[dict[str, Any]] | None = None
        self.stop_reason = "end_turn"
        self.bodies: list[dict[str, Any]] = []
        self._body_lock = threading.Lock()

    def handle(self, request: RecordedRequest) -> tuple[int, Any]:
        if request.method != "POST" or request.path != "/v1/messages":
            return 404, error_body("not_found_error", "Not found")
        if request.headers.get("x-api-key") != self.api_key:
            return 401, error_body("authentication_error", "invalid x-api-key")
        if request.headers.get("anthropic-version") != "2023-06-01":
            return 400, error_body("invalid_request_error", "anthropic-version header is required")
        try:
            body = request.json()
        except ValueError:
            return 400, error_body("invalid_request_error", "invalid JSON body")
        problem = _invalid(body)
        if problem:
            return 400, error_body("invalid_request_error", problem)
        with self._body_lock:
            self.bodies.append(body)
        text = self.responder(body)
        blocks = self.blocks if self.blocks is not None else [{"type": "text", "text": text}]
        prompt = str(body.get("system", "")) + " ".join(str(m["content"]) for m in body["messages"])
        return 200, {
            "id": f"msg_{next(_IDS):06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": blocks,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": tokens(prompt), "output_tokens": tokens(text)},
        }


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be an object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    if "tools" in body or "tool_choice" in body:
        return "this fake refuses tools: the app must never send them"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user" or any(m.get("role") not in ("user", "assistant") for m in messages):
        return "messages: roles must alternate, starting with user"
    if "system" in body and not isinstance(body["system"], str | list):
        return "system: must be a string or a list of blocks"
    return None
