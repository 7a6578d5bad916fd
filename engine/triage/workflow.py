"""The triage workflow as the runner sees it."""

from __future__ import annotations

from collections.abc import Sequence

from engine.durable.runner import Workflow
from engine.ingest import TRIAGE_WORKFLOW
from engine.ports import AiProvider
from engine.triage.deps import TriageDeps
from engine.triage.email_data import preload
from engine.triage.steps.classify import ClassifyStep
from engine.triage.steps.close import CloseStep
from engine.triage.steps.crm import CrmStep
from engine.triage.steps.draft import DraftStep
from engine.triage.steps.minimise import MinimiseStep
from engine.triage.steps.parse import ParseStep
from engine.triage.steps.route import RouteStep
from engine.triage.steps.send import SendStep

#: Extra seconds a step calling providers is given beyond the providers' own time limits.
CHAIN_MARGIN_S = 30.0

#: Step names in order; checkpoints are checked against these on replay.
STEP_NAMES = ("parse", "minimise", "classify", "crm", "draft", "route", "send", "close")


def chain_timeout(providers: Sequence[AiProvider]) -> float:
    """Time limit of a step that may try every provider of its chain in turn."""
    return sum(float(getattr(p, "timeout_s", 60.0)) for p in providers) + CHAIN_MARGIN_S


def build_triage_workflow(deps: TriageDeps) -> Workflow[TriageDeps]:
    """The triage steps wired to ``deps``.

    A remote CRM or mailbox, or AI providers in the classify or draft chain, make those steps
    non-local: they run in a worker thread with a time limit and commit on their own.
    """
    remote_mailbox = any(source.destination != "local" for source in deps.sources.values())
    steps = (
        ParseStep(),
        MinimiseStep(),
        ClassifyStep(
            remote_timeout_s=chain_timeout(deps.classify_providers) if deps.classify_providers else None
        ),
        CrmStep(remote=deps.crm),
        DraftStep(remote_timeout_s=chain_timeout(deps.draft_providers) if deps.draft_providers else None),
        RouteStep(),
        SendStep(),
        CloseStep(remote=remote_mailbox),
    )
    assert tuple(s.name for s in steps) == STEP_NAMES
    return Workflow(name=TRIAGE_WORKFLOW, steps=steps, preload=preload)
