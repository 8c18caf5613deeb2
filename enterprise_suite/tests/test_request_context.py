"""Request ids: echoed to the caller, on the request's log line, and carried into the tasks it
enqueues, where a real worker logs them as JSON."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
import structlog

from conftest import RunningProcess
from enterprise_suite.tasks import ping


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        r.msg
        for r in caplog.records
        if r.name == "enterprise_suite.request" and isinstance(r.msg, dict)
    ]


@pytest.mark.django_db
def test_the_callers_request_id_is_echoed_and_logged(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = client.get("/api/v1/releases/", HTTP_X_REQUEST_ID="req-42.abc")
    assert response["X-Request-ID"] == "req-42.abc"
    [line] = [line for line in _request_lines(caplog) if line["path"] == "/api/v1/releases/"]
    assert line["request_id"] == "req-42.abc"
    assert line["status"] == 401
    assert line["method"] == "GET"
    assert structlog.contextvars.get_contextvars() == {}  # nothing leaks to the next request


@pytest.mark.parametrize("bad", ["has spaces", "x" * 129, "semi;colon\nnewline", "trailing\n"])
@pytest.mark.django_db
def test_an_unusable_request_id_is_replaced(client: Any, bad: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/healthz")["X-Request-ID"] != response["X-Request-ID"]


@pytest.mark.django_db
def test_an_eager_task_inside_a_request_keeps_the_request_id() -> None:
    structlog.contextvars.bind_contextvars(request_id="outer")
    try:
        assert ping.delay().get() == "pong"
        assert structlog.contextvars.get_contextvars() == {"request_id": "outer"}
    finally:
        structlog.contextvars.clear_contextvars()


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Child processes started after this log JSON lines."""
    monkeypatch.setenv("LOG_FORMAT", "json")


@pytest.mark.services
@pytest.mark.slow
def test_a_worker_logs_the_enqueuing_requests_id_as_json(
    json_logs: None, celery_worker_process: RunningProcess
) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-into-worker")
    try:
        result = ping.apply_async(queue=celery_worker_process.queue)
    finally:
        structlog.contextvars.clear_contextvars()
    assert result.get(timeout=30) == "pong"
    deadline = time.monotonic() + 10
    while True:
        lines = [
            json.loads(line)
            for line in celery_worker_process.log().splitlines()
            if line.startswith("{")
        ]
        finished = [line for line in lines if line.get("event") == "task_finished"]
        if finished or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert finished, celery_worker_process.log()
    assert finished[-1]["request_id"] == "req-into-worker"
    assert finished[-1]["task"] == "enterprise_suite.ping"
    assert finished[-1]["task_id"] == result.id
    assert finished[-1]["state"] == "SUCCESS"


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_request_id_follows_an_api_request_into_the_task_it_enqueues(
    json_logs: None, celery_worker_process: RunningProcess, make_caller: Any
) -> None:
    """End to end: an audio upload (an HTTP request with X-Request-ID) enqueues its analysis;
    the real worker's JSON log line for that task carries the same request id."""
    from distribution.tests.factories import TrackFactory
    from distribution.tests.media_files import make_wav

    caller = make_caller(role="manager")
    track = TrackFactory(release__organization=caller.organization)
    response = caller.client.generic(
        "PUT",
        f"/api/v1/tracks/{track.pk}/audio/",
        make_wav(seconds=0.5),
        content_type="audio/wav",
        HTTP_X_REQUEST_ID="upload-7f3a",
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "upload-7f3a"
    deadline = time.monotonic() + 30
    while True:
        finished = [
            line
            for line in (
                json.loads(raw)
                for raw in celery_worker_process.log().splitlines()
                if raw.startswith("{")
            )
            if line.get("event") == "task_finished"
            and line.get("task") == "distribution.asset_analyse"
        ]
        if finished or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert finished, celery_worker_process.log()
    assert finished[-1]["request_id"] == "upload-7f3a"
    assert finished[-1]["state"] == "SUCCESS"


@pytest.mark.services
@pytest.mark.slow
def test_the_request_id_is_echoed_by_the_asgi_server(daphne_server: RunningProcess) -> None:
    """The async path (the middleware runs on daphne's event loop, without a thread hop)."""
    import httpx

    base = f"http://127.0.0.1:{daphne_server.port}"
    response = httpx.get(f"{base}/api/v1/releases/", headers={"X-Request-ID": "asgi-77"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "asgi-77"
    fresh = httpx.get(f"{base}/healthz").headers["X-Request-ID"]
    assert len(fresh) == 32 and fresh != "asgi-77"


def test_the_middleware_is_async_under_an_async_handler() -> None:
    from asgiref.sync import iscoroutinefunction

    from enterprise_suite.request_context import RequestIdMiddleware

    async def view(request: Any) -> Any:
        return None

    assert iscoroutinefunction(RequestIdMiddleware(view))
    assert not iscoroutinefunction(RequestIdMiddleware(lambda request: None))
