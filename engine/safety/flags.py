"""The short, content-free flags a run records when something must be reviewed by a person.

They go into step outputs and audit details (which never hold message content), so they name the
kind of problem only; the review pane shows the detailed reasons next to them.
"""

from __future__ import annotations

from engine.safety.drafts import DraftFindings
from engine.safety.injection import InjectionFinding

#: The email looks like it tries to steer the model (the local scan or the provider said so).
INJECTION_FLAG = "possible prompt injection"
#: The draft adds a link, address or phone number found neither in the thread nor the facts page.
FOREIGN_CONTACT_FLAG = "draft adds links or contact details not in the thread"
#: The AI provider and the local model chose different categories.
DISAGREEMENT_FLAG = "AI provider and local model disagree"


def review_flags(
    injection: InjectionFinding | None = None,
    draft: DraftFindings | None = None,
    *,
    provider_suspects_injection: bool = False,
) -> list[str]:
    """The flags for what was found; an empty list means nothing forces review."""
    flags: list[str] = []
    if (injection is not None and injection.suspected) or provider_suspects_injection:
        flags.append(INJECTION_FLAG)
    if draft is not None and draft.must_review:
        flags.append(FOREIGN_CONTACT_FLAG)
    return flags
