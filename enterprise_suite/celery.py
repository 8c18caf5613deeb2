"""The Celery application shared by the worker, beat and the web process.

Tasks are enqueued after the surrounding transaction commits (`task.delay_on_commit`), so a
worker never sees an id whose row is not yet visible.
"""

import os
from functools import cached_property
from types import FrameType

from celery import Celery, beat, platforms, signals
from celery.apps.beat import Beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "enterprise_suite.settings")


class StoppingBeat(Beat):
    """Celery's beat, stopped by SIGTERM or SIGINT without touching the database in the
    signal handler.

    Celery's handler saves the schedule from inside the handler. The database scheduler
    saves it with queries on the connection the interrupted code may be using: a signal
    during the scheduler's setup built a second scheduler there and beat hung until killed
    (a deadlock on the connection's lock), and one during a tick's query could do the same.
    Here the handler only asks beat to stop: its loop ends at its next wake-up (at most the
    database scheduler's 5 s) and saves the schedule on the way out, as it does on any stop.
    """

    def install_sync_handler(self, service: beat.Service) -> None:
        def _stop(signum: int, frame: FrameType | None) -> None:
            service.stop()

        platforms.signals.update(SIGTERM=_stop, SIGINT=_stop)


class EnterpriseSuiteCelery(Celery):
    @cached_property
    def Beat(self) -> type[Beat]:  # Celery's name for its beat app class
        return self.subclass_with_self(StoppingBeat)


app = EnterpriseSuiteCelery("enterprise_suite")
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
