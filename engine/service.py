"""The engine as one object: open a profile, ingest, run, decide, query, audit.

The command line and the desktop both drive the engine through :class:`TriageService`; the
composition root (``desktop.wiring``) builds the connectors and hands them in.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.ai.chain import ProviderChain
from engine.ai.usage import TokenUsageLedger
from engine.categories import ALL_CATEGORIES
from engine.classify.classifier import OfflineClassifier
from engine.classify.model import ClassifierInput, LabelledText, classifier_from_corrections
from engine.classify.result import Classification
from engine.classify.rules import Rule, validate_rules
from engine.drafting.templates import DraftTemplates
from engine.durable.runner import Runner, RunnerStats
from engine.errors import InvalidStateError, StepError
from engine.ingest import IngestReport, ingest_source
from engine.mail.model import ParsedEmail
from engine.mail.parse import parse_message
from engine.mail.quoting import strip_quoted_and_signature
from engine.maintenance import MaintenanceReport, run_daily
from engine.ports import AiProvider, CrmClient, MailSender, MailSource, SecretStore
from engine.profile import Profile
from engine.queries import Queries
from engine.review import DraftEdit, approve, reclassify, reject, retry_run, undo_approval
from engine.settings_store import INSTALL_ID, SettingsStore, read_raw, write_raw
from engine.storage import migrate
from engine.storage.db import Database
from engine.storage.models import Correction, Run, table_of
from engine.storage.types import utcnow
from engine.triage.deps import SettingsSnapshot, TriageDeps
from engine.triage.email_data import read_parsed
from engine.triage.steps.draft import first_name, reference_for
from engine.triage.workflow import build_triage_workflow, chain_timeout

_COR = table_of(Correction)

#: Seconds a settings snapshot is reused before the database is read again.
SETTINGS_TTL_S = 2.0


def open_database(profile: Profile) -> Database:
    """Create the profile folder, open its database and bring the schema up to date."""
    profile.ensure()
    db = Database(profile.database_url())
    migrate.upgrade(db)
    return db


def ensure_install_id(db: Database) -> str:
    """The profile's random id; prefixes idempotency keys so two profiles never collide."""
    with db.write() as conn:
        value = read_raw(conn, INSTALL_ID)
        if isinstance(value, str) and value:
            return value
        value = uuid.uuid4().hex
        write_raw(conn, INSTALL_ID, value, actor=None, audit=False)
        return value


@dataclass
class PollReport:
    """What one poll did: mail ingested per source, runs driven, errors per source."""

    started_at: datetime
    finished_at: datetime | None = None
    ingest: IngestReport = field(default_factory=lambda: IngestReport(new_run_ids=[]))
    runner: RunnerStats = field(default_factory=RunnerStats)
    errors: dict[str, str] = field(default_factory=dict)
    maintenance: MaintenanceReport | None = None


@dataclass
class Connections:
    """The connectors the composition root built for this profile."""

    sender: MailSender
    sources: dict[str, MailSource]
    crm: CrmClient | None = None
    ai_providers: tuple[AiProvider, ...] = ()
    classify_chain: tuple[AiProvider, ...] = ()
    draft_chain: tuple[AiProvider, ...] = ()
    token_usage: TokenUsageLedger | None = None
    secrets: SecretStore | None = None

    def close(self) -> None:
        """Close the connectors (here the sources; the composition root's subclass closes the rest)."""
        for source in self.sources.values():
            source.close()


class TriageService:
    """One profile's engine: storage, settings, classifier, runner, decisions and queries."""

    def __init__(
        self,
        profile: Profile,
        db: Database,
        connections: Connections,
        *,
        now: Callable[[], datetime] = utcnow,
        group_local_steps: bool = True,
    ) -> None:
        self.profile = profile
        self.db = db
        self.connections = connections
        self.now = now
        self.settings = SettingsStore(db)
        self.queries = Queries(db)
        self.install_id = ensure_install_id(db)
        self._classifier: OfflineClassifier | None = None
        self._classifier_lock = threading.Lock()
        self._group_local_steps = group_local_steps
        self._runner: Runner[TriageDeps] | None = None
        self._snapshot: tuple[int, float, SettingsSnapshot] | None = None
        self._poll_lock = threading.Lock()

    # --- collaborators -------------------------------------------------------------------------

    def snapshot(self) -> SettingsSnapshot:
        """Current settings as the steps use them.

        Cached for :data:`SETTINGS_TTL_S` seconds (a change made in another process applies within
        that time) and refreshed at once after a change made through this service.
        """
        now = time.monotonic()
        cached = self._snapshot
        if cached is not None and cached[0] == self.settings.generation and now < cached[1]:
            return cached[2]
        snapshot = self._read_snapshot()
        self._snapshot = (self.settings.generation, now + SETTINGS_TTL_S, snapshot)
        return snapshot

    def _read_snapshot(self) -> SettingsSnapshot:
        policies = self.settings.policies()
        overrides = {c: p.template for c, p in policies.items() if p.template}
        templates = (
            DraftTemplates.default().with_overrides(overrides) if overrides else DraftTemplates.default()
        )
        office = self.settings.office()
        chains = {
            step: ProviderChain(
                providers,
                categories=ALL_CATEGORIES,
                office_name=office.office_name,
                usage=self.connections.token_usage,
                timeout_s=chain_timeout(providers),
            )
            for step, providers in (
                ("classify", self.connections.classify_chain),
                ("draft", self.connections.draft_chain),
            )
        }
        return SettingsSnapshot(
            office=office,
            policies=policies,
            templates=templates,
            classify_chain=chains["classify"],
            draft_chain=chains["draft"],
        )

    def corrections(self) -> list[LabelledText]:
        """Staff corrections, as training examples."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_COR.c.subject, _COR.c.body, _COR.c.sender, _COR.c.category).order_by(_COR.c.id)
            ).fetchall()
        return [
            LabelledText(
                subject=r.subject, body=r.body, sender=r.sender, category=r.category, source="correction"
            )
            for r in rows
        ]

    def classifier(self) -> OfflineClassifier:
        """The offline classifier (trained or loaded on first use; retrained after corrections)."""
        with self._classifier_lock:
            if self._classifier is None:
                rules = [Rule(**r) for r in self.settings.rules()]
                model = classifier_from_corrections(self.profile.model_dir, self.corrections())
                self._classifier = OfflineClassifier(rules=rules, model=model)
            return self._classifier

    def reload_classifier(self) -> None:
        """Forget the loaded classifier so rules and corrections apply to the next run."""
        with self._classifier_lock:
            self._classifier = None

    def deps(self) -> TriageDeps:
        """The triage steps' collaborators."""
        return TriageDeps(
            settings=self.snapshot,
            classifier=self.classifier,
            sender=self.connections.sender,
            sources=self.connections.sources,
            crm=self.connections.crm,
            classify_providers=self.connections.classify_chain,
            draft_providers=self.connections.draft_chain,
        )

    def runner(self) -> Runner[TriageDeps]:
        """The durable runner for this profile (one per service)."""
        if self._runner is None:
            deps = self.deps()
            self._runner = Runner(
                self.db,
                build_triage_workflow(deps),
                deps,
                install_id=self.install_id,
                now=self.now,
                group_local_steps=self._group_local_steps,
            )
        return self._runner

    # --- mail in, runs forward -----------------------------------------------------------------

    def ingest(
        self, source: MailSource, *, on_batch: Callable[[IngestReport], None] | None = None
    ) -> IngestReport:
        """Store everything new from ``source`` (each new email gets exactly one run).

        ``on_batch`` hears about each batch once it is stored (its runs can be claimed from then on).
        """
        return ingest_source(self.db, source, now=self.now, on_batch=on_batch)

    def poll(
        self,
        *,
        workers: int = 1,
        stop: threading.Event | None = None,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> PollReport:
        """One poll: ingest from every configured source, then drive every run that can progress."""
        with self._poll_lock:
            return self._poll(workers, stop, on_batch)

    def replace_connections(self, connections: Connections) -> Connections:
        """Use ``connections`` from now on (Settings changed what to connect to); return the old ones.

        Waits for a running poll to finish first. The runner is rebuilt with the new connectors
        on next use; a run being driven elsewhere finishes its step with the old ones. The caller
        closes the returned connections.
        """
        with self._poll_lock:
            old, self.connections = self.connections, connections
            self._runner = None
            self._snapshot = None
        return old

    def _poll(
        self,
        workers: int,
        stop: threading.Event | None,
        on_batch: Callable[[IngestReport], None] | None,
    ) -> PollReport:
        report = PollReport(started_at=self.now())
        for name, source in self.connections.sources.items():
            try:
                report.ingest.merge(self.ingest(source, on_batch=on_batch))
            except StepError as exc:
                report.errors[name] = str(exc)
        report.runner = self.process(workers=workers, stop=stop)
        report.maintenance = self.daily_maintenance()
        report.finished_at = self.now()
        return report

    def daily_maintenance(self) -> MaintenanceReport | None:
        """Sign the audit head and purge by retention, once per day (see engine.maintenance)."""
        return run_daily(
            self.db,
            secrets=self.connections.secrets,
            retention_days=self.settings.retention().days,
            now=self.now(),
        )

    def resume(self) -> int:
        """Release leases of crashed processes on this computer (call once at start)."""
        return self.runner().release_dead_leases()

    def process(self, *, workers: int = 1, stop: threading.Event | None = None) -> RunnerStats:
        """Drive every run that can progress now."""
        return self.runner().run_until_idle(workers=workers, stop=stop)

    def close(self) -> None:
        """Release the runner's threads, the connectors and the database."""
        if self._runner is not None:
            self._runner.close()
        self.connections.close()
        self.db.dispose()

    # --- people's decisions ----------------------------------------------------------------------

    def actor(self) -> str:
        """The display name recorded for this desk's actions."""
        return self.settings.office().user_name

    def approve(
        self, run_id: int, *, edit: DraftEdit | None = None, undo_s: float = 0.0, actor: str | None = None
    ) -> datetime:
        """Approve a queued draft; the send happens on the next runner pass after the undo window."""
        return approve(self.db, run_id, actor=actor or self.actor(), edit=edit, undo_s=undo_s, now=self.now())

    def reject(self, run_id: int, *, reason: str, actor: str | None = None) -> None:
        """Reject a queued draft with a reason."""
        reject(self.db, run_id, actor=actor or self.actor(), reason=reason, now=self.now())

    def undo_approval(self, run_id: int, *, actor: str | None = None) -> None:
        """Take back an approval inside its undo window."""
        undo_approval(self.db, run_id, actor=actor or self.actor(), now=self.now())

    def retry(self, run_id: int, *, actor: str | None = None) -> None:
        """Send a failed run back to the runner."""
        retry_run(self.db, run_id, actor=actor or self.actor(), now=self.now())

    def reclassify(self, run_id: int, category: str, *, actor: str | None = None) -> None:
        """Correct a queued item's category, re-draft it if untouched, and teach the local model."""
        detail = self.queries.queue_item(run_id)
        training: tuple[str, str, str] | None = None
        new_draft: tuple[str, str] | None = None
        email = self._parsed(run_id)
        if email is not None:
            body = strip_quoted_and_signature(email.body_text)
            training = (email.subject, body, email.sender.email if email.sender else "")
            draft = detail.draft
            untouched = draft is not None and not any(d.edited for d in detail.decisions)
            if draft is not None and untouched:
                snapshot = self.snapshot()
                office = snapshot.office
                rendered = snapshot.templates.render(
                    category,
                    sender_name=first_name(email),
                    subject=email.subject,
                    reference=reference_for(run_id),
                    office_name=office.office_name,
                    signature=office.signature or office.office_name,
                )
                if rendered is not None:
                    new_draft = (rendered.body, rendered.template)
        reclassify(
            self.db,
            run_id,
            category,
            actor=actor or self.actor(),
            training_text=training,
            new_draft=new_draft,
            now=self.now(),
        )
        self.reload_classifier()

    def _parsed(self, run_id: int) -> ParsedEmail | None:
        with self.db.read() as conn:
            email_id = conn.execute(
                select(table_of(Run).c.email_id).where(table_of(Run).c.id == run_id)
            ).scalar_one_or_none()
            return None if email_id is None else read_parsed(conn, int(email_id))

    # --- classification without side effects ----------------------------------------------------

    def classify_raw(self, raw: bytes) -> Classification:
        """Classify one message as the pipeline would, storing nothing."""
        parsed = parse_message(raw)
        if not isinstance(parsed, ParsedEmail):
            raise InvalidStateError(f"the message cannot be understood: {parsed.reason}")
        item = ClassifierInput.from_parsed(parsed, strip_quoted_and_signature(parsed.body_text))
        return self.classifier().classify(item)

    def save_rules(self, rules: list[dict[str, str]], *, actor: str | None = None) -> None:
        """Validate and store classifier rules."""
        validate_rules([Rule(**r) for r in rules])
        self.settings.save_rules(rules, actor=actor or self.actor())
        self.reload_classifier()

    def describe(self) -> dict[str, Any]:
        """A short description of this profile for status displays."""
        return {
            "profile": str(self.profile.root),
            "database": self.db.url.split("///")[0] + "///…",
            "install_id": self.install_id,
        }
