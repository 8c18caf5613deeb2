"""Platform tasks."""

from celery import shared_task


@shared_task(name="enterprise_suite.ping")
def ping() -> str:
    """Round trip used by readiness checks and tests to prove a worker consumes the broker."""
    return "pong"
