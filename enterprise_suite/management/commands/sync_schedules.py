"""Sync the scheduled jobs defined in code to django-celery-beat's tables (run at deploy)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from enterprise_suite.schedules import PREFIXES, SCHEDULES


class Command(BaseCommand):
    help = "Create, update and remove the periodic tasks the apps define in code."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for schedule in SCHEDULES:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=schedule.every_seconds, period=IntervalSchedule.SECONDS
            )
            _, created = PeriodicTask.objects.update_or_create(
                name=schedule.name,
                defaults={
                    "task": schedule.task,
                    "interval": interval,
                    "enabled": True,
                    "description": schedule.description,
                },
            )
            self.stdout.write(f"{'created' if created else 'updated'}: {schedule.name}")
        names = {s.name for s in SCHEDULES}
        ours = Q()
        for prefix in PREFIXES:
            ours |= Q(name__startswith=prefix)
        stale = PeriodicTask.objects.filter(ours).exclude(name__in=names)
        for task in stale:
            self.stdout.write(f"removed: {task.name}")
        stale.delete()
