"""The embedded profile's in-process scheduler runs the synced jobs when they are due."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from enterprise_suite.embedded_scheduler import EmbeddedScheduler
from enterprise_suite.schedules import SCHEDULES

pytestmark = pytest.mark.django_db


def test_jobs_run_once_per_interval() -> None:
    call_command("sync_schedules", stdout=StringIO())
    scheduler = EmbeddedScheduler()
    assert scheduler.run_due(now=0.0) == []  # first sight: due one interval from now
    shortest = min(s.every_seconds for s in SCHEDULES)
    ran = scheduler.run_due(now=float(shortest))
    assert set(ran) == {s.name for s in SCHEDULES if s.every_seconds == shortest}
    assert scheduler.run_due(now=float(shortest)) == []  # not again until the next interval
    longest = max(s.every_seconds for s in SCHEDULES)
    assert set(scheduler.run_due(now=float(shortest + longest))) == {s.name for s in SCHEDULES}


def test_disabled_jobs_do_not_run() -> None:
    call_command("sync_schedules", stdout=StringIO())
    PeriodicTask.objects.update(enabled=False)
    scheduler = EmbeddedScheduler()
    scheduler.run_due(now=0.0)
    assert scheduler.run_due(now=1e9) == []
