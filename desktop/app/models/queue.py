"""The review queue as a table: category badge, sender, subject, confidence, arrival, wait."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QObject

from desktop.app import format as fmt
from desktop.app.models.base import RIGHT, Column, RowsModel
from engine.queries import RunSummary

Clock = Callable[[], datetime]


def _sender(row: RunSummary) -> str:
    return row.sender_name or row.sender or "(unknown sender)"


def _subject(row: RunSummary) -> str:
    return row.subject or "(no subject)"


def queue_columns(now: Clock) -> list[Column[RunSummary]]:
    """The queue's columns; ``now`` drives the relative times."""
    return [
        Column(
            "Category", lambda r: fmt.category_label(r.category), category=lambda r: r.category, width=112
        ),
        Column("From", _sender, tooltip=lambda r: r.sender or "", width=150),
        Column("Subject", _subject, tooltip=lambda r: r.subject or "", width=330),
        Column(
            "Sure",
            lambda r: fmt.confidence_text(r.confidence),
            tooltip=lambda r: "How sure the classifier is of the category",
            align=RIGHT,
            width=56,
        ),
        Column("Arrived", lambda r: fmt.local_time(r.received_at, now()), width=64),
        Column(
            "Waited",
            lambda r: fmt.waited(r.waiting_since, now()),
            tooltip=lambda r: f"Waiting since {fmt.local_time(r.waiting_since, now())}",
            align=RIGHT,
            width=64,
        ),
    ]


class QueueModel(RowsModel[RunSummary]):
    """Items waiting for review, complaints first (the order comes from the engine's query)."""

    def __init__(self, parent: QObject | None = None, *, now: Clock | None = None) -> None:
        clock: Clock = now or (lambda: datetime.now(UTC))
        super().__init__(queue_columns(clock), key=lambda r: r.run_id, parent=parent)
