"""The triage workflow as the runner sees it."""

from __future__ import annotations

from engine.durable.runner import Workflow
from engine.ingest import TRIAGE_WORKFLOW
from engine.triage.deps import TriageDeps
from engine.triage.steps.classify import ClassifyStep
from engine.triage.steps.close import CloseStep
from engine.triage.steps.crm import CrmStep
from engine.triage.steps.draft import DraftStep
from engine.triage.steps.minimise import MinimiseStep
from engine.triage.steps.parse import ParseStep
from engine.triage.steps.route import RouteStep
from engine.triage.steps.send import SendStep

#: Step names in order; checkpoints are checked against these on replay.
STEP_NAMES = ("parse", "minimise", "classify", "crm", "draft", "route", "send", "close")


def build_triage_workflow(deps: TriageDeps) -> Workflow[TriageDeps]:
    """The triage steps wired to ``deps`` (a remote CRM or mailbox makes those steps non-local)."""
    remote_mailbox = any(source.destination != "local" for source in deps.sources.values())
    steps = (
        ParseStep(),
        MinimiseStep(),
        ClassifyStep(),
        CrmStep(remote=deps.crm),
        DraftStep(),
        RouteStep(),
        SendStep(),
        CloseStep(remote=remote_mailbox),
    )
    assert tuple(s.name for s in steps) == STEP_NAMES
    return Workflow(name=TRIAGE_WORKFLOW, steps=steps)
