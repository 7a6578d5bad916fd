"""OpenAI-compatible chat completions: OpenAI, Azure OpenAI, Mistral, Groq, OpenRouter, Ollama, LM
Studio, vLLM, llama.cpp.

``POST {base_url}/chat/completions`` with ``model``, ``messages`` (system, user),
``temperature``, ``max_tokens`` (or ``max_completion_tokens``) and, when the request carries a
schema, ``response_format = {"type": "json_schema", "json_schema": {"name", "schema",
"strict": true}}``. Servers that reject that with HTTP 400 get ``{"type": "json_object"}``, then
no ``response_format`` at all (the prompt still carries the schema and the engine validates the
answer); the step down is remembered for the provider. Azure OpenAI: the deployment URL as base
URL, the ``api-key`` header and ``?api-version=``.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from connectors.errors import ConnectorPermanentError, MalformedResponseError
from connectors.http import raise_for_status
from connectors.providers.base import HttpCall, ProviderBase
from engine.ports import Completion, CompletionRequest

#: Ways of asking for JSON, strongest first.
FORMAT_MODES = ("json_schema", "json_object", "none")


class OpenAICompatibleProvider(ProviderBase):
    """An :class:`engine.ports.AiProvider` for any OpenAI-compatible chat completions API."""

    kind_label = "OpenAI-compatible provider"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mode_floor = 0
        self._mode_lock = threading.Lock()

    @property
    def format_mode(self) -> str:
        """How this provider is asked for JSON now (``json_schema``, ``json_object`` or ``none``)."""
        return FORMAT_MODES[self._mode_floor]

    def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """Ask for an answer; step down the JSON mode when the server rejects it with HTTP 400."""
        if request.json_schema is None:
            return self._read(self._send(self._prepare(request, mode=None), timeout=timeout), request)
        mode_index = self._mode_floor
        while True:
            mode = FORMAT_MODES[mode_index]
            response = self._send(self._prepare(request, mode=mode), timeout=timeout, check_status=False)
            if response.status_code == 400 and mode_index + 1 < len(FORMAT_MODES):
                mode_index += 1
                continue
            raise_for_status(response, service=self.label)
            completion = self._read(response, request)
            with self._mode_lock:
                self._mode_floor = max(self._mode_floor, mode_index)
            return completion

    def _call(self, request: CompletionRequest, **options: Any) -> HttpCall:
        mode = options.get("mode")
        settings = self.settings
        body: dict[str, Any] = {
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            "temperature": request.temperature,
            settings.max_tokens_field: request.max_tokens,
        }
        if settings.model:
            body["model"] = settings.model
        if request.json_schema is not None and mode == "json_schema":
            schema = {k: v for k, v in request.json_schema.items() if k != "title"}
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": str(request.json_schema.get("title") or request.purpose or "answer"),
                    "schema": schema,
                    "strict": True,
                },
            }
        elif request.json_schema is not None and mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        headers: dict[str, str] = {}
        params: dict[str, str] = {}
        key = self.api_key()
        if settings.azure_api_version is not None:
            params["api-version"] = settings.azure_api_version
            if key is not None:
                headers["api-key"] = key
        elif key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return HttpCall("/chat/completions", body, headers, params)

    def _read(self, response: httpx.Response, request: CompletionRequest) -> Completion:
        data = self._json(response)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedResponseError(f"{self.label} answered without choices")
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise MalformedResponseError(f"{self.label} answered without a message")
        content = message.get("content")
        if not isinstance(content, str) or not content:
            refusal = message.get("refusal")
            if isinstance(refusal, str) and refusal:
                raise ConnectorPermanentError(f"{self.label}: the model refused: {refusal[:200]}")
            raise MalformedResponseError(f"{self.label} answered without text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        assert isinstance(usage, dict)
        return Completion(
            text=content,
            model=str(data.get("model") or self.settings.model),
            input_tokens=_count(usage.get("prompt_tokens")),
            output_tokens=_count(usage.get("completion_tokens")),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
