"""A request id on every log line of a request and of the tasks it enqueues.

The middleware takes the caller's `X-Request-ID` (or the ALB's `X-Amzn-Trace-Id`) when it is
a sane token, otherwise makes one, binds it to structlog's context for the request, returns it
in `X-Request-ID` and logs one line per request. Celery signals carry it in the headers of
every task published while it is bound and bind it again in the worker around the task, so a
delivery's worker logs can be found from the API call that approved the release.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from celery import signals
from django.http import HttpRequest, HttpResponse

logger = structlog.get_logger("enterprise_suite.request")

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
_VALID = re.compile(r"[A-Za-z0-9._:=;-]{1,128}")
# Probes and scrapes would drown the log: they are logged at debug level only.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _incoming_id(request: HttpRequest) -> str:
    for header in (HEADER, "X-Amzn-Trace-Id"):
        value = request.headers.get(header, "")
        if _VALID.fullmatch(value):  # match() would let "id\n" through, into a header
            return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds the request id for the request's logs and tasks, echoes it, logs the request.

    Sync and async: as the only sync-only middleware it would make Django hop from daphne's
    event loop to a thread and back on every request.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        started = self._begin(request)
        try:
            return self._finish(request, self.get_response(request), started)
        finally:
            structlog.contextvars.clear_contextvars()

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        started = self._begin(request)
        try:
            return self._finish(request, await self.get_response(request), started)
        finally:
            structlog.contextvars.clear_contextvars()

    @staticmethod
    def _begin(request: HttpRequest) -> float:
        request.request_id = _incoming_id(request)  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.request_id)  # type: ignore[attr-defined]
        return time.monotonic()

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponse, started: float) -> HttpResponse:
        response[HEADER] = request.request_id  # type: ignore[attr-defined]
        log = logger.debug if request.path in QUIET_PATHS else logger.info
        log(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return response


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


@signals.before_task_publish.connect
def _add_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


# Context tokens per running task, to restore what was bound before: an eager task runs inside
# the request that enqueued it, whose request id must survive the task.
_task_tokens: dict[str, Any] = {}


@signals.task_prerun.connect
def _bind_task_context(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    request_id = getattr(request, TASK_HEADER, None) or (
        (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    )
    context = {"task_id": task_id, "task": getattr(task, "name", "")}
    if request_id:
        context["request_id"] = request_id
    _task_tokens[task_id] = structlog.contextvars.bind_contextvars(**context)


@signals.task_postrun.connect
def _restore_context(task_id: str = "", state: str | None = None, **kwargs: Any) -> None:
    logger.info("task_finished", state=state)
    tokens = _task_tokens.pop(task_id, None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)
