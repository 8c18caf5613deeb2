"""The Celery application shared by the worker, beat and the web process.

Tasks are enqueued after the surrounding transaction commits (`task.delay_on_commit`), so a
worker never sees an id whose row is not yet visible.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "enterprise_suite.settings")

app = Celery("enterprise_suite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _serve_worker_metrics(**kwargs: object) -> None:
    # In the worker's main process, before the pool forks: one endpoint for all of them.
    port = os.environ.get("WORKER_METRICS_PORT", "")
    if port:
        from enterprise_suite.metrics import serve_worker_metrics

        serve_worker_metrics(int(port))


@signals.beat_init.connect
def _log_beat_ready(sender: object = None, **kwargs: object) -> None:
    # Celery logs "beat: Starting..." before it sets its scheduler up (the database
    # scheduler writes its entries then, which takes a while): this says the schedule is
    # loaded, for operators and for the entrypoint tests that stop beat once it runs.
    import structlog

    scheduler = getattr(sender, "scheduler", None)
    structlog.get_logger(__name__).info("beat_ready", scheduler=type(scheduler).__name__)


# The request id travels in task headers (signal handlers connect on import).
import enterprise_suite.request_context  # noqa: E402, F401
