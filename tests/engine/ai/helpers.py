"""In-process fake providers and test emails for the chain tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.ai.errors import mark_not_sent
from engine.errors import TransientError
from engine.mail.model import Address, ParsedEmail
from engine.ports import Completion, CompletionRequest

Answer = str | Exception | Callable[[CompletionRequest], str]


class FakeProvider:
    """An :class:`engine.ports.AiProvider` answering from a script; records every request."""

    def __init__(self, name: str, *answers: Answer, redact: bool = True, destination: str = "") -> None:
        self._name = name
        self._answers = list(answers)
        self._redact = redact
        self._destination = destination or f"api.{name}.example"
        self.requests: list[CompletionRequest] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def destination(self) -> str:
        return self._destination

    @property
    def redact(self) -> bool:
        return self._redact

    def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        self.requests.append(request)
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if isinstance(answer, Exception):
            raise answer
        text = answer(request) if callable(answer) else answer
        return Completion(text=text, model=f"{self._name}-model", input_tokens=100, output_tokens=20)


def classification(category: str = "order", confidence: float = 0.9, **extra: Any) -> str:
    value = {
        "category": category,
        "confidence": confidence,
        "reasons": ["asks about [NAME_1]'s order"],
        "priority": "normal",
        "injection_suspected": False,
    }
    value.update(extra)
    return json.dumps(value)


def draft_answer(subject: str = "Re: Business cards", body: str = "Dear [NAME_1],\n\nThanks.\n\nJo") -> str:
    return json.dumps({"subject": subject, "body": body})


def not_sent(exc: Exception) -> Exception:
    mark_not_sent(exc)
    return exc


def transient(message: str = "overloaded") -> TransientError:
    return TransientError(message)


def make_email(body: str, *, subject: str = "Business cards for Redland Physio") -> ParsedEmail:
    return ParsedEmail(
        message_id="<abc@example.net>",
        subject=subject,
        sender=Address("Priya Patel", "priya@redlandphysio.co.uk"),
        reply_to=(),
        to=(Address("Thornbury & Webb", "hello@thornburywebb.co.uk"),),
        cc=(Address("Sam O'Neill", "sam@redlandphysio.co.uk"),),
        date=datetime(2026, 11, 9, 10, 0, tzinfo=UTC),
        in_reply_to=None,
        references=(),
        body_text=body,
        body_html=None,
        attachments=(),
    )
