"""A fake OpenAI-compatible chat completions endpoint (OpenAI, Azure OpenAI, local servers)."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support_http.server import LoopbackServer, RecordedRequest

Responder = Callable[[dict[str, Any]], str]

_IDS = itertools.count(1)
_UNSUPPORTED = "Invalid parameter: 'response_format' of type '{}' is not supported with this model."


def schema_answer(body: dict[str, Any]) -> str:
    """A valid answer for whichever of the app's schemas the request carries (for load tests); a draft
    greets the first name placeholder of the user message, as a model would."""
    name = _schema_name(body)
    if name == "draft_reply" or (name is None and '\\"subject\\"' in json.dumps(body.get("messages", []))):
        user = " ".join(
            str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"
        )
        name = re.search(r"\[NAME_\d+\]", user)
        greeting = name.group() if name else "there"
        return json.dumps({"subject": "Re: your enquiry", "body": f"Dear {greeting},\n\nThank you.\n"})
    return json.dumps(
        {
            "category": "enquiry",
            "confidence": 0.9,
            "reasons": ["asks for a price"],
            "priority": "normal",
            "injection_suspected": False,
        }
    )


def _schema_name(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return str(fmt.get("json_schema", {}).get("name"))
    return None


def tokens(text: str) -> int:
    """A rough token count (words), enough for usage figures."""
    return max(1, len(text.split()))


class OpenAIServer(LoopbackServer):
    """``POST {prefix}/chat/completions`` with the documented request and response shapes.

    ``api_key`` is checked as ``Authorization: Bearer`` (or the ``api-key`` header when ``azure``
    is set, which also requires ``?api-version=``). ``json_schema_supported=False`` makes the
    server reject ``response_format.type == "json_schema"`` with HTTP 400, as many compatible
    servers do; ``json_object_supported=False`` rejects ``json_object`` too. ``latency_s`` delays
    every answer. ``responder`` returns the assistant message's content for a request body.
    """

    service = "openai"

    def __init__(
        self,
        *,
        api_key: str | None = "sk-test",
        prefix: str = "/v1",
        azure: bool = False,
        responder: Responder = schema_answer,
        json_schema_supported: bool = True,
        json_object_supported: bool = True,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.api_key = api_key
        self.prefix = prefix
        self.azure = azure
        self.responder = responder
        self.json_schema_supported = json_schema_supported
        self.json_object_supported = json_object_supported
        self.latency_s = latency_s
        self.bodies: list[dict[str, Any]] = []
        self._body_lock = threading.Lock()

    def handle(self, request: RecordedRequest) -> tuple[int, Any]:
        if request.method != "POST" or request.path != f"{self.prefix}/chat/completions":
            return 404, _error("Unknown request URL", "invalid_request_error", code="unknown_url")
        if not self._authorised(request):
            return 401, _error("Incorrect API key provided", "invalid_request_error", code="invalid_api_key")
        if self.azure and not request.query.get("api-version"):
            return 404, _error("Resource not found (api-version missing)", "invalid_request_error")
        try:
            body = request.json()
        except ValueError:
            return 400, _error("We could not parse the JSON body of your request.", "invalid_request_error")
        problem = self._invalid(body)
        if problem is not None:
            return 400, _error(problem, "invalid_request_error", param="response_format")
        with self._body_lock:
            self.bodies.append(body)
        if self.latency_s and self._stopping.wait(self.latency_s):
            return 503, _error("server stopping", "server_error")
        content = self.responder(body)
        prompt = " ".join(str(m.get("content", "")) for m in body["messages"])
        usage = {"prompt_tokens": tokens(prompt), "completion_tokens": tokens(content)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return 200, {
            "id": f"chatcmpl-{next(_IDS)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "deployment"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }

    def _authorised(self, request: RecordedRequest) -> bool:
        if self.api_key is None:
            return True
        if self.azure:
            return request.headers.get("api-key") == self.api_key
        return request.headers.get("authorization") == f"Bearer {self.api_key}"

    def _invalid(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return "'messages' is a required property"
        if not self.azure and not isinstance(body.get("model"), str):
            return "you must provide a model parameter"
        if any(key in body for key in ("tools", "functions", "tool_choice", "function_call")):
            return "this fake refuses tools: the app must never send them"
        for message in body["messages"]:
            if message.get("role") not in ("system", "user", "assistant", "developer"):
                return f"invalid role {message.get('role')!r}"
        fmt = body.get("response_format")
        if isinstance(fmt, dict):
            if fmt.get("type") == "json_schema":
                if not self.json_schema_supported:
                    return _UNSUPPORTED.format("json_schema")
                spec = fmt.get("json_schema", {})
                if not isinstance(spec.get("name"), str) or not isinstance(spec.get("schema"), dict):
                    return "response_format.json_schema needs a name and a schema"
            elif fmt.get("type") == "json_object" and not self.json_object_supported:
                return _UNSUPPORTED.format("json_object")
        return None


def _error(message: str, kind: str, *, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
