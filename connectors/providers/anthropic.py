"""Anthropic's Messages API.

``POST {base_url}/v1/messages`` with the headers ``x-api-key`` and ``anthropic-version:
2023-06-01`` and the body ``model``, ``system``, ``messages`` (one user turn), ``max_tokens`` and
``temperature``. The answer's text blocks are joined; usage comes from ``usage.input_tokens`` and
``usage.output_tokens``. Errors arrive as ``{"type": "error", "error": {"type", "message"}}``;
529 ("overloaded") is transient like 500 and 503. The JSON schema goes in the prompt (the engine
validates the answer strictly).
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.errors import ConnectorPermanentError, MalformedResponseError
from connectors.providers.base import HttpCall, ProviderBase
from engine.ports import Completion, CompletionRequest

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider(ProviderBase):
    """An :class:`engine.ports.AiProvider` for Anthropic's Messages API."""

    kind_label = "Anthropic provider"

    def _call(self, request: CompletionRequest, **options: Any) -> HttpCall:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "system": request.system,
            "messages": [{"role": "user", "content": request.user}],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        key = self.api_key()
        if key is not None:
            headers["x-api-key"] = key
        return HttpCall("/v1/messages", body, headers, {})

    def _read(self, response: httpx.Response, request: CompletionRequest) -> Completion:
        data = self._json(response)
        if data.get("type") == "error":
            raise MalformedResponseError(f"{self.label} answered 200 with an error body")
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise MalformedResponseError(f"{self.label} answered without content")
        text = "".join(
            str(block.get("text", ""))
            for block in blocks
            if isinstance(block, dict) and block.get("type") == "text"
        )
        if data.get("stop_reason") == "refusal":
            raise ConnectorPermanentError(f"{self.label}: the model declined to answer")
        if not text:
            raise MalformedResponseError(f"{self.label} answered without text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        assert isinstance(usage, dict)
        return Completion(
            text=text,
            model=str(data.get("model") or self.settings.model),
            input_tokens=_count(usage.get("input_tokens")),
            output_tokens=_count(usage.get("output_tokens")),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
