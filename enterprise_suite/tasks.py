"""Platform tasks."""

from celery import shared_task


@shared_task(name="enterprise_suite.ping")
def ping() -> str:
    """Round trip used by readiness checks and tests to prove a worker consumes the broker."""
    return "pong"


@shared_task(name="enterprise_suite.queue_backlog_publish")
def queue_backlog_publish() -> dict[str, int]:
    from enterprise_suite.metrics import queue_backlog_publish as publish

    return publish()
