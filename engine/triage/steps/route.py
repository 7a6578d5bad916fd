"""Step 6, *route*: close, auto-send (only when policy allows and nothing is flagged), or wait for review."""

from __future__ import annotations

from engine.audit.event import NewAuditEvent
from engine.categories import NO_REPLY_CATEGORIES
from engine.durable.step import StepContext, StepResult
from engine.triage.deps import TriageDeps
from engine.triage.steps.base import LocalStep

CLOSE = "close"
AUTO_SEND = "auto_send"
REVIEW = "review"


def decide_route(
    *, category: str, confidence: float, drafted: bool, flags: list[str], mode: str, threshold: float
) -> tuple[str, str]:
    """The route and the reason for it. Flags (injection, foreign links) always force review."""
    if category in NO_REPLY_CATEGORIES or mode == "no_reply":
        return CLOSE, f"{category}: labelled and closed without a reply"
    if not drafted:
        return REVIEW, "no draft could be written"
    if flags:
        return REVIEW, "flagged: " + ", ".join(flags)
    if mode == "auto_send" and confidence >= threshold:
        return AUTO_SEND, f"policy allows auto-send at confidence ≥ {threshold:g}"
    if mode == "auto_send":
        return REVIEW, f"confidence {confidence:.2f} is below the auto-send threshold {threshold:g}"
    return REVIEW, f"policy: {category} needs review"


class RouteStep(LocalStep):
    """Apply the category's policy."""

    name = "route"

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Choose the route; waiting for review is a durable state."""
        category = ctx.run.category or "other"
        confidence = ctx.run.confidence or 0.0
        policy = ctx.deps.settings().policies.get(category)
        flags = list(ctx.output_of("classify").get("flags") or []) + list(
            ctx.output_of("draft").get("flags") or []
        )
        route, reason = decide_route(
            category=category,
            confidence=confidence,
            drafted=bool(ctx.output_of("draft").get("drafted")),
            flags=flags,
            mode=policy.mode if policy else "review",
            threshold=policy.threshold if policy else 1.0,
        )
        action = {CLOSE: "route.closed", AUTO_SEND: "route.auto_send", REVIEW: "review.queued"}[route]
        event = NewAuditEvent(
            action=action,
            outcome=route,
            run_id=str(ctx.run.run_id),
            email_ref=ctx.run.email_ref,
            detail={"category": category, "reason": reason},
        )
        output = {"route": route, "reason": reason}
        if route == REVIEW:
            return StepResult(output=output, events=[event], wait="review")
        return StepResult(output=output, events=[event])
