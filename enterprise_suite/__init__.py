"""Enterprise Suite project package: settings, Celery app, ASGI routing, shared API plumbing."""

from enterprise_suite.celery import app as celery_app

__all__ = ["celery_app"]
