"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from enterprise_suite import metrics
from enterprise_suite.celery import app as celery_app
from enterprise_suite.redis_client import shared_redis

CHECK_TIMEOUT_SECONDS = 2


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "not used (embedded profile)"
    # The process's own client: a probe every few seconds must not open a connection each.
    shared_redis().ping()
    return "ok"


def check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used (tasks run in-process)"
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
    return "ok"


READINESS_CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Every dependency this process needs answers; 503 naming the ones that do not."""
    results: dict[str, str] = {}
    failed: list[str] = []
    for name, check in READINESS_CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure means not ready; say which and why
            results[name] = f"error: {exc.__class__.__name__}: {exc}"[:300]
            failed.append(name)
        metrics.readiness_checked(check=name, ok=name not in failed)
    body = {"status": "unavailable" if failed else "ok", "checks": results, "failed": failed}
    return JsonResponse(body, status=503 if failed else 200)
