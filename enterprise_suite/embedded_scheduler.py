"""Scheduled jobs inside the web process, for the embedded profile (no beat, no worker).

It reads the same django-celery-beat interval schedules that `manage.py sync_schedules`
writes, and runs each due task in-process, eagerly, from a daemon thread.
"""

from __future__ import annotations

import threading
import time

import structlog
from django.db import close_old_connections
from django_celery_beat.models import PeriodicTask

from enterprise_suite.celery import app

logger = structlog.get_logger(__name__)


class EmbeddedScheduler(threading.Thread):
    def __init__(self, tick_seconds: float = 1.0) -> None:
        super().__init__(name="embedded-scheduler", daemon=True)
        self.tick_seconds = tick_seconds
        self.next_run: dict[str, float] = {}
        self.stopped = threading.Event()
        # A worker imports every app's tasks module at start; this process must too, or the
        # task names the schedules refer to are unknown here.
        app.loader.import_default_modules()

    def run_due(self, now: float) -> list[str]:
        """Run every enabled interval task that is due at `now`; returns the names run."""
        ran = []
        tasks = PeriodicTask.objects.filter(enabled=True, interval__isnull=False).select_related(
            "interval"
        )
        for task in tasks:
            assert task.interval is not None
            every = task.interval.schedule.run_every.total_seconds()
            due = self.next_run.setdefault(task.name, now + every)
            if now < due:
                continue
            self.next_run[task.name] = now + every
            try:
                app.tasks[task.task].apply()
                ran.append(task.name)
            except Exception:  # a failing job must not stop the others
                logger.exception("embedded_job_failed", job=task.name)
        return ran

    def run(self) -> None:
        while not self.stopped.wait(self.tick_seconds):
            try:
                self.run_due(time.monotonic())
            finally:
                close_old_connections()
