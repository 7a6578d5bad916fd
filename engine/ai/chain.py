"""The provider chain: classify and draft with AI providers in order, falling back locally.

For each provider in order the chain redacts what will be sent (unless that provider has
redaction off), builds the prompt, asks, validates the answer strictly against the schema and
restores placeholders locally. A transient error, any provider error or a rejected answer moves
on to the next provider; when none answers, the local classification or the template draft is
used with the reason "all providers unavailable". Every attempt yields one audit event
(``ai.classify`` / ``ai.draft``, actor ``provider:<name>``, destination the API host, the data
categories that actually left, outcome ``ok`` / ``rejected`` / ``error``, and a detail with the
model, token counts and latency — never content). The chain never raises for a provider failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from engine.ai.eligibility import combine
from engine.ai.errors import ProviderOutputRejectedError, was_sent
from engine.ai.outcomes import AiClassification, ClassifyOutcome, DraftOutcome
from engine.ai.prompts import Prompt, classification_prompt, draft_prompt, new_nonce
from engine.ai.schemas import DRAFT_SCHEMA, classification_schema, wire_schema
from engine.ai.usage import TokenUsageLedger
from engine.ai.validate import validated
from engine.audit.event import NewAuditEvent, provider_actor
from engine.categories import ALL_CATEGORIES, DataCategory
from engine.classify.result import Classification
from engine.errors import EngineError, TransientError
from engine.mail.model import ParsedEmail
from engine.ports import AiProvider, Completion, CompletionRequest
from engine.redact import RedactedParts, Redactor, restore, unresolved_placeholders
from engine.safety.drafts import check_draft
from engine.safety.flags import FOREIGN_CONTACT_FLAG, INJECTION_FLAG
from engine.safety.injection import detect_injection

ALL_UNAVAILABLE = "all providers unavailable"
NO_PROVIDERS = "no AI provider is configured"
CLASSIFY_ACTION = "ai.classify"
DRAFT_ACTION = "ai.draft"
CLASSIFY_MAX_TOKENS = 400
DRAFT_MAX_TOKENS = 1500
_MAX_PROBLEMS = 5
_DRAFT_DATA = (
    DataCategory.SUBJECT,
    DataCategory.MESSAGE_BODY,
    DataCategory.CLASSIFICATION,
    DataCategory.DRAFT_REPLY,
)

_T = TypeVar("_T")


class DraftText(Protocol):
    """A draft's subject and body (``engine.drafting.templates.Draft`` fits)."""

    @property
    def subject(self) -> str:
        """The subject line."""
        ...

    @property
    def body(self) -> str:
        """The text."""
        ...


@dataclass(frozen=True)
class _Attempts:
    provider: str | None
    value: Any
    events: tuple[NewAuditEvent, ...]


class ProviderChain:
    """Providers in order, with the local fallback; see the module docstring.

    ``redactor_factory`` builds the per-email redactor from the names of the sender and recipients.
    ``categories`` are the office's categories (the classification schema's enum). ``usage``
    receives token counts per provider per ``today()``. ``timeout_s`` caps each attempt (each
    provider also applies its own, smaller, timeout).
    """

    def __init__(
        self,
        providers: Sequence[AiProvider],
        redactor_factory: Callable[[Sequence[str]], Redactor] = Redactor,
        *,
        categories: Sequence[str] = ALL_CATEGORIES,
        office_name: str = "",
        usage: TokenUsageLedger | None = None,
        timeout_s: float = 60.0,
        today: Callable[[], date] = date.today,
        nonce: Callable[[], str] = new_nonce,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.providers = tuple(providers)
        self._redactor_factory = redactor_factory
        self._categories = tuple(categories)
        self._schema = classification_schema(self._categories)
        self._office_name = office_name
        self._usage = usage
        self._timeout_s = timeout_s
        self._today = today
        self._nonce = nonce
        self._clock = clock

    # --- classification ------------------------------------------------------------------------

    def classify(
        self,
        email: ParsedEmail,
        minimised_body: str,
        local: Classification,
        *,
        run_id: str | None = None,
        email_ref: str | None = None,
    ) -> ClassifyOutcome:
        """Classify with the first provider that gives a valid answer; else keep ``local``."""
        injection = detect_injection(email.subject + "\n" + email.body_text)
        flags = [INJECTION_FLAG] if injection.suspected else []
        reasons = [f"Possible prompt injection: {r}." for r in injection.reasons]
        redactor = self._redactor(email)

        def build(parts: RedactedParts, nonce: str) -> Prompt:
            return classification_prompt(
                subject=parts.texts[0],
                body=parts.texts[1],
                categories=self._categories,
                schema=self._schema,
                office_name=self._office_name,
                nonce=nonce,
            )

        def accept(value: dict[str, Any], mapping: dict[str, str]) -> AiClassification:
            return AiClassification(
                category=str(value["category"]),
                confidence=float(value["confidence"]),
                reasons=tuple(restore(str(r), mapping) for r in value["reasons"]),
                priority=str(value["priority"]),
                injection_suspected=bool(value["injection_suspected"]),
            )

        attempts = self._attempt(
            CLASSIFY_ACTION,
            redactor,
            parts=[email.subject, minimised_body],
            build=build,
            schema=self._schema,
            max_tokens=CLASSIFY_MAX_TOKENS,
            accept=accept,
            base_categories=(DataCategory.SUBJECT, DataCategory.MESSAGE_BODY),
            run_id=run_id,
            email_ref=email_ref,
        )
        ai: AiClassification | None = attempts.value
        if ai is None:
            return ClassifyOutcome(
                provider=None,
                fallback_reason=NO_PROVIDERS if not self.providers else ALL_UNAVAILABLE,
                flags=tuple(flags),
                review_reasons=tuple(reasons),
                events=attempts.events,
                classification=local,
                local=local,
                ai=None,
                agreement=None,
                auto_send_confidence=local.confidence,
                priority=None,
            )
        combined = combine(local, ai)
        if ai.injection_suspected:
            if INJECTION_FLAG not in flags:
                flags.append(INJECTION_FLAG)
            reasons.append("The AI provider reports that the email tries to give it instructions.")
        return ClassifyOutcome(
            provider=attempts.provider,
            fallback_reason=None,
            flags=tuple(flags) + combined.flags,
            review_reasons=tuple(reasons) + combined.review_reasons,
            events=attempts.events,
            classification=combined.classification,
            local=local,
            ai=ai,
            agreement=combined.agreement,
            auto_send_confidence=combined.auto_send_confidence,
            priority=ai.priority,
        )

    # --- drafting ----------------------------------------------------------------------------------

    def draft(
        self,
        email: ParsedEmail,
        minimised_body: str,
        *,
        category: str,
        facts: str,
        style: str,
        signature: str,
        template_draft: DraftText,
        run_id: str | None = None,
        email_ref: str | None = None,
    ) -> DraftOutcome:
        """Draft with the first provider that gives a valid answer; else use ``template_draft``.

        The answer's placeholders are restored here; an answer with a placeholder that cannot be
        restored is rejected. The restored draft is checked for links, addresses and phone
        numbers that are in neither the thread, the facts page nor the signature.
        """
        redactor = self._redactor(email)
        parts_in = [
            email.subject,
            minimised_body,
            template_draft.subject,
            template_draft.body,
            facts,
            style,
            signature,
        ]

        def build(parts: RedactedParts, nonce: str) -> Prompt:
            subject, body, t_subject, t_body, p_facts, p_style, p_signature = parts.texts
            return draft_prompt(
                subject=subject,
                body=body,
                category=category,
                facts=p_facts,
                style=p_style,
                signature=p_signature,
                template_subject=t_subject,
                template_body=t_body,
                office_name=self._office_name,
                nonce=nonce,
            )

        def accept(value: dict[str, Any], mapping: dict[str, str]) -> tuple[str, str]:
            left = unresolved_placeholders(value["subject"] + "\n" + value["body"], mapping)
            if left:
                raise ProviderOutputRejectedError([f"$: {len(left)} placeholder(s) that cannot be restored"])
            return restore(value["subject"], mapping).strip(), restore(value["body"], mapping).strip()

        attempts = self._attempt(
            DRAFT_ACTION,
            redactor,
            parts=parts_in,
            build=build,
            schema=DRAFT_SCHEMA,
            max_tokens=DRAFT_MAX_TOKENS,
            accept=accept,
            base_categories=_DRAFT_DATA,
            run_id=run_id,
            email_ref=email_ref,
        )
        if attempts.value is None:
            return DraftOutcome(
                provider=None,
                fallback_reason=NO_PROVIDERS if not self.providers else ALL_UNAVAILABLE,
                flags=(),
                review_reasons=(),
                events=attempts.events,
                subject=template_draft.subject,
                body=template_draft.body,
                source="template",
                findings=None,
            )
        subject, body = attempts.value
        findings = check_draft(subject + "\n" + body, thread_text(email), facts, signature=signature)
        return DraftOutcome(
            provider=attempts.provider,
            fallback_reason=None,
            flags=(FOREIGN_CONTACT_FLAG,) if findings.must_review else (),
            review_reasons=findings.reasons,
            events=attempts.events,
            subject=subject,
            body=body,
            source="ai",
            findings=findings,
        )

    # --- the attempt loop ----------------------------------------------------------------------

    def _attempt(
        self,
        action: str,
        redactor: Redactor | None,
        *,
        parts: list[str],
        build: Callable[[RedactedParts, str], Prompt],
        schema: dict[str, Any],
        max_tokens: int,
        accept: Callable[[dict[str, Any], dict[str, str]], _T],
        base_categories: tuple[DataCategory, ...],
        run_id: str | None,
        email_ref: str | None,
    ) -> _Attempts:
        events: list[NewAuditEvent] = []
        prepared: dict[bool, RedactedParts] = {}
        for provider in self.providers:
            redacting = provider.redact
            if redacting not in prepared:
                active = _require(redactor)
                prepared[redacting] = active.redact_parts(parts) if redacting else active.passthrough(parts)
            redacted = prepared[redacting]
            prompt = build(redacted, self._nonce())
            request = CompletionRequest(
                system=prompt.system,
                user=prompt.user,
                json_schema=wire_schema(schema),
                max_tokens=max_tokens,
                temperature=0.0,
                purpose=action.removeprefix("ai."),
            )
            sent = tuple(sorted({c.value for c in base_categories} | {c.value for c in redacted.remaining}))
            detail: dict[str, Any] = {
                "provider": provider.name,
                "redacted": redacting,
                "placeholders": len(redacted.mapping),
            }
            event = _EventFactory(action, provider, run_id, email_ref, sent, detail)
            started = self._clock()
            try:
                completion = provider.complete(request, timeout=self._timeout_s)
            except EngineError as exc:
                events.append(event.error(exc, self._elapsed_ms(started)))
                continue
            self._record_usage(provider.name, completion)
            try:
                value = accept(validated(completion.text, schema), redacted.mapping)
            except ProviderOutputRejectedError as exc:
                events.append(event.done("rejected", completion, self._elapsed_ms(started), exc.problems))
                continue
            events.append(event.done("ok", completion, self._elapsed_ms(started)))
            return _Attempts(provider.name, value, tuple(events))
        return _Attempts(None, None, tuple(events))

    def _elapsed_ms(self, started: float) -> int:
        return max(0, round((self._clock() - started) * 1000))

    def _record_usage(self, provider: str, completion: Completion) -> None:
        if self._usage is not None:
            self._usage.record(
                provider,
                self._today(),
                input_tokens=completion.input_tokens,
                output_tokens=completion.output_tokens,
            )

    def _redactor(self, email: ParsedEmail) -> Redactor | None:
        """The email's redactor, built only when some provider may be asked (it is not free)."""
        return self._redactor_factory(self._known_names(email)) if self.providers else None

    def _known_names(self, email: ParsedEmail) -> list[str]:
        """Display names of the sender and recipients (not the office's own name)."""
        office = self._office_name.casefold().strip()
        people = [email.sender, *email.reply_to, *email.to, *email.cc]
        names = [a.name for a in people if a is not None and a.name.strip()]
        return [n for n in dict.fromkeys(names) if n.casefold().strip() != office]


@dataclass(frozen=True)
class _EventFactory:
    action: str
    provider: AiProvider
    run_id: str | None
    email_ref: str | None
    categories: tuple[str, ...]
    detail: dict[str, Any]

    def _event(self, outcome: str, categories: tuple[str, ...], detail: dict[str, Any]) -> NewAuditEvent:
        return NewAuditEvent(
            action=self.action,
            outcome=outcome,
            actor=provider_actor(self.provider.name),
            run_id=self.run_id,
            email_ref=self.email_ref,
            data_categories=categories,
            destination=self.provider.destination,
            detail={**self.detail, **detail},
        )

    def done(
        self, outcome: str, completion: Completion, latency_ms: int, problems: Sequence[str] = ()
    ) -> NewAuditEvent:
        """The event of an attempt that got an answer (``ok`` or ``rejected``)."""
        detail: dict[str, Any] = {
            "model": completion.model[:100],
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
            "latency_ms": latency_ms,
        }
        if problems:
            detail["problems"] = list(problems[:_MAX_PROBLEMS])
        return self._event(outcome, self.categories, detail)

    def error(self, exc: BaseException, latency_ms: int) -> NewAuditEvent:
        """The event of an attempt that failed; no data categories when nothing was sent."""
        sent = was_sent(exc)
        detail = {
            "error": type(exc).__name__,
            "retryable": isinstance(exc, TransientError),
            "sent": sent,
            "latency_ms": latency_ms,
        }
        return self._event("error", self.categories if sent else (), detail)


def _require(redactor: Redactor | None) -> Redactor:
    if redactor is None:  # pragma: no cover - built whenever there are providers to ask
        raise RuntimeError("no redactor for a provider attempt")
    return redactor


def thread_text(email: ParsedEmail) -> str:
    """The whole thread as the draft check compares against: addresses, subject, full body."""
    people = [email.sender, *email.reply_to, *email.to, *email.cc]
    header = "\n".join(a.formatted() for a in people if a is not None)
    return f"{header}\nSubject: {email.subject}\n\n{email.body_text}"
