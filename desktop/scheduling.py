"""Polling on a schedule with APScheduler 3: interval, working hours, "check now", never overlapping.

Used by ``inbox-triage serve`` and by the desktop window. The job itself calls back into
``poll`` (the service's poll) on the scheduler's worker thread; a lock makes sure two polls
never run at the same time even when "check now" is pressed during a scheduled poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from engine.settings import ScheduleSettings

log = logging.getLogger(__name__)

POLL_JOB_ID = "poll"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def within_working_hours(schedule: ScheduleSettings, moment: datetime) -> bool:
    """Whether ``moment`` (local time) is inside the configured working hours."""
    if not schedule.working_hours_only:
        return True
    if _WEEKDAYS[moment.weekday()] not in schedule.days:
        return False
    hhmm = moment.strftime("%H:%M")
    return schedule.start <= hhmm < schedule.end


class PollScheduler:
    """Runs ``poll`` every N minutes (and on demand), skipping outside working hours."""

    def __init__(
        self,
        poll: Callable[[], object],
        schedule: Callable[[], ScheduleSettings],
        *,
        on_error: Callable[[BaseException], None] | None = None,
        on_polled: Callable[[object], None] | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self._poll = poll
        self._schedule = schedule
        self._on_error = on_error
        self._on_polled = on_polled
        self._clock = clock
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        self._manual_requested = threading.Event()
        self.last_poll: datetime | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        """Start polling according to the current schedule (first poll right away)."""
        settings = self._schedule()
        self._scheduler.add_job(
            self._job,
            IntervalTrigger(minutes=settings.poll_minutes),
            id=POLL_JOB_ID,
            next_run_time=self._clock() if settings.enabled else None,
        )
        self._scheduler.start()
        if not settings.enabled:
            self._scheduler.pause_job(POLL_JOB_ID)

    def reschedule(self) -> None:
        """Apply a changed schedule (interval, on/off)."""
        settings = self._schedule()
        self._scheduler.reschedule_job(POLL_JOB_ID, trigger=IntervalTrigger(minutes=settings.poll_minutes))
        if settings.enabled:
            self._scheduler.resume_job(POLL_JOB_ID)
        else:
            self._scheduler.pause_job(POLL_JOB_ID)

    def check_now(self) -> None:
        """Poll as soon as possible (ignores working hours and the on/off switch; skipped if a poll runs).

        The scheduled job is simply brought forward: a one-off job would be removed by APScheduler
        after it ran, which races with a shutdown right after "check now".
        """
        self._manual_requested.set()
        self._scheduler.modify_job(POLL_JOB_ID, next_run_time=self._clock())

    def _consume_manual_request(self) -> bool:
        requested = self._manual_requested.is_set()
        self._manual_requested.clear()
        return requested

    def next_poll(self) -> datetime | None:
        """When the next scheduled poll runs, if any."""
        job = self._scheduler.get_job(POLL_JOB_ID)
        return None if job is None else job.next_run_time

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop scheduling; with ``wait`` let a running poll finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    def run_once(self, *, manual: bool = False) -> bool:
        """Run one poll now on this thread unless one is already running; return whether it ran."""
        return self._job(manual=manual)

    def _job(self, manual: bool = False) -> bool:
        manual = manual or self._consume_manual_request()
        settings = self._schedule()
        if not manual and not settings.enabled:
            return False
        if not manual and not within_working_hours(settings, self._clock()):
            log.info("outside working hours; poll skipped")
            return False
        if not self._lock.acquire(blocking=False):
            log.info("a poll is already running; this one is skipped")
            return False
        try:
            result = self._poll()
            self.last_poll = self._clock()
            self.last_error = None
            if self._on_polled is not None:
                self._on_polled(result)
            return True
        except Exception as exc:
            self.last_error = str(exc)
            log.exception("poll failed")
            if self._on_error is not None:
                self._on_error(exc)
            return False
        finally:
            self._lock.release()
