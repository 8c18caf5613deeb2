"""`runserver` (daphne's, with autoreload) that also fires scheduled jobs in the embedded
profile, where there is no beat or worker process."""

from __future__ import annotations

from typing import Any

from daphne.management.commands.runserver import Command as DaphneRunserver
from django.conf import settings

from enterprise_suite.embedded_scheduler import EmbeddedScheduler


class Command(DaphneRunserver):
    def inner_run(self, *args: Any, **options: Any) -> Any:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            EmbeddedScheduler().start()
            self.stdout.write("Scheduled jobs run in this process (embedded profile).")
        return super().inner_run(*args, **options)
