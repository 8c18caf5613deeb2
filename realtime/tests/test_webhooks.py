"""Outbound webhooks against a real local HTTP receiver: Standard Webhooks signatures, order per
subject, retries with backoff, auto-disable, replay, SSRF refusal, tenancy; and one send by a real
Celery worker."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from conftest import Caller, MakeCaller, RunningProcess
from realtime.events import publish
from realtime.models import (
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from realtime.webhooks import ENDPOINT_DISABLED_EVENT, webhook_deliveries_send_due


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and fails the first `fail_first`."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def succeeded(self) -> list[Received]:
        return [r for r in self.requests if r.headers.get("x-outcome") == "ok"]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.succeeded()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.succeeded()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec = holder["r"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with rec.lock:
                fail = rec.failures < rec.fail_first
                if fail:
                    rec.failures += 1
                headers["x-outcome"] = "fail" if fail else "ok"
                rec.requests.append(Received(headers=headers, body=body))
            payload = b'{"error":"boom"}' if fail else b"x" * 5000
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(server=server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["r"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_settings(settings: Any) -> Any:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    return settings


def _endpoint(caller: Caller, url: str, **extra: Any) -> dict[str, Any]:
    response = caller.client.post(
        "/api/v1/webhook-endpoints/", {"url": url, **extra}, format="json"
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def _publish(caller: Caller, subject_id: uuid.UUID, n: int, type: str = "release.updated") -> None:
    publish(
        organization_id=caller.organization.pk,
        type=type,
        subject_type="release",
        subject_id=subject_id,
        data={"n": n},
    )


def _verified(secret: str, requests: list[Received]) -> list[dict[str, Any]]:
    hook = Webhook(secret)
    return [dict(hook.verify(r.body, r.headers)) for r in requests]


def _make_all_due() -> None:
    WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )


@pytest.mark.django_db
def test_events_arrive_signed_in_order_per_subject_and_secret_is_shown_once(
    make_caller: MakeCaller,
    receiver: Receiver,
    webhook_settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller = make_caller()
    created = _endpoint(caller, receiver.url, description="ours")
    secret = created["secret"]
    assert secret.startswith("whsec_")
    detail = caller.client.get(f"/api/v1/webhook-endpoints/{created['id']}/").json()
    assert "secret" not in detail
    assert all(
        "secret" not in e for e in caller.client.get("/api/v1/webhook-endpoints/").json()["results"]
    )

    a, b = uuid.uuid4(), uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            _publish(caller, a, n)
            _publish(caller, b, n)

    messages = _verified(secret, receiver.wait_for(6))
    assert len(receiver.requests) == 6
    for subject in (a, b):
        ns = [m["data"]["n"] for m in messages if m["data"]["subject_id"] == str(subject)]
        assert ns == [0, 1, 2]
    first = messages[0]
    assert set(first) == {"id", "type", "occurred_at", "data"}
    assert first["type"] == "release.updated"
    # The webhook-id is the delivery's stable id.
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {d.message_id for d in WebhookDelivery.objects.all()}
    attempt = WebhookAttempt.objects.first()
    assert attempt is not None and attempt.status_code == 200 and attempt.succeeded
    assert len(attempt.response_body) == 2048


@pytest.mark.django_db
def test_event_type_filter_and_inactive_endpoints(
    make_caller: MakeCaller,
    receiver: Receiver,
    webhook_settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller = make_caller()
    _endpoint(caller, receiver.url, event_types=["release.approved"])
    _endpoint(caller, receiver.url + "?off", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 1, type="release.updated")
        _publish(caller, uuid.uuid4(), 2, type="release.approved")
    assert [r.json["type"] for r in receiver.wait_for(1)] == ["release.approved"]
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_failing_receiver_recovers_and_everything_arrives_in_order(
    make_caller: MakeCaller,
    receiver: Receiver,
    webhook_settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    webhook_settings.WEBHOOK_MAX_ATTEMPTS = 8
    receiver.fail_first = 2
    caller = make_caller()
    secret = _endpoint(caller, receiver.url)["secret"]
    subject = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            _publish(caller, subject, n)
    # The first delivery failed and backs off; the later ones wait behind it.
    assert len(receiver.requests) == 1
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first is not None and first.status == WebhookDeliveryStatus.PENDING
    assert first.next_attempt_at is not None and first.next_attempt_at > timezone.now()
    assert first.last_error == "HTTP 500"
    # Not due yet: the job sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_send_due()
    assert len(receiver.requests) == 1

    for _ in range(3):
        _make_all_due()
        with django_capture_on_commit_callbacks(execute=True):
            webhook_deliveries_send_due()

    ok = receiver.wait_for(4)
    assert [m["data"]["n"] for m in _verified(secret, ok)] == [0, 1, 2, 3]
    _verified(secret, receiver.requests)  # the failed attempts were signed too
    assert not WebhookDelivery.objects.exclude(status=WebhookDeliveryStatus.SUCCEEDED).exists()
    first.refresh_from_db()
    assert first.attempt_count == 3
    assert [a.status_code for a in first.attempts.all()] == [500, 500, 200]
    assert first.attempts.all()[0].response_body == '{"error":"boom"}'
    # A rerun of the task for a delivered row does nothing.
    from realtime.tasks import webhook_send

    assert webhook_send(str(first.pk)) is None
    assert first.attempts.count() == 3


@pytest.mark.django_db
def test_endpoint_is_disabled_after_consecutive_failed_deliveries_then_replay(
    make_caller: MakeCaller,
    receiver: Receiver,
    webhook_settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.fail_first = 10_000
    caller = make_caller()
    created = _endpoint(caller, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 1)
        _publish(caller, uuid.uuid4(), 2)
    for _ in range(3):
        _make_all_due()
        with django_capture_on_commit_callbacks(execute=True):
            webhook_deliveries_send_due()
    assert len(receiver.requests) == 6  # 2 deliveries x 3 attempts
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert endpoint.consecutive_failures == 2
    disabled = Event.objects.get(type=ENDPOINT_DISABLED_EVENT)
    assert disabled.subject_id == endpoint.pk
    assert disabled.organization_id == caller.organization.pk
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}

    delivery = WebhookDelivery.objects.order_by("event_id").first()
    assert delivery is not None
    url = f"/api/v1/webhook-deliveries/{delivery.pk}/replay/"
    # Replaying into a disabled endpoint is refused.
    assert caller.client.post(url).status_code == 409

    receiver.fail_first = 0
    response = caller.client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"is_active": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["consecutive_failures"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.post(url)
    assert response.status_code == 202, response.json()
    ok = receiver.wait_for(1)
    assert _verified(created["secret"], ok)[0]["id"] == delivery.event_id
    assert ok[0].headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED
    body = caller.client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").json()
    assert [a["status_code"] for a in body["attempts"]] == [500, 500, 500, 200]
    # A pending delivery cannot be replayed; a finished one again can.
    assert caller.client.post(url).status_code == 202


@pytest.mark.django_db
def test_ssrf_refused_at_creation_and_at_send_time(
    make_caller: MakeCaller,
    receiver: Receiver,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    caller = make_caller()
    for url in (
        "http://127.0.0.1:9/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://localhost/hook",
        "ftp://example.com/hook",
    ):
        response = caller.client.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
        assert response.status_code == 400, url
        assert "url" in response.json()["error"]["details"], url
    assert not WebhookEndpoint.objects.exists()

    # Created while allowed; by send time private addresses are refused again: no request made.
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    endpoint_id = _endpoint(caller, receiver.url)["id"]
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 1)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(endpoint_id=endpoint_id)
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.last_error.startswith("Refused:")
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and not attempt.succeeded


@pytest.mark.django_db
def test_tenancy_capabilities_update_rotate_delete(
    make_caller: MakeCaller,
    receiver: Receiver,
    webhook_settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller = make_caller()
    stranger = make_caller()
    viewer = make_caller(organization=caller.organization, role="viewer")
    created = _endpoint(caller, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 1)
    delivery = WebhookDelivery.objects.get()
    endpoint_url = f"/api/v1/webhook-endpoints/{created['id']}/"
    delivery_url = f"/api/v1/webhook-deliveries/{delivery.pk}/"

    assert stranger.client.get(endpoint_url).status_code == 404
    assert (
        stranger.client.patch(endpoint_url, {"description": "x"}, format="json").status_code == 404
    )
    assert stranger.client.delete(endpoint_url).status_code == 404
    assert stranger.client.get(delivery_url).status_code == 404
    assert stranger.client.post(f"{delivery_url}replay/").status_code == 404
    assert stranger.client.get("/api/v1/webhook-endpoints/").json()["results"] == []
    assert stranger.client.get("/api/v1/webhook-deliveries/").json()["results"] == []

    # Viewers may read deliveries but not manage endpoints or replay.
    assert viewer.client.get(delivery_url).status_code == 200
    assert viewer.client.get("/api/v1/webhook-endpoints/").status_code == 403
    assert viewer.client.post(f"{delivery_url}replay/").status_code == 403

    listed = caller.client.get("/api/v1/webhook-deliveries/", {"endpoint": created["id"]}).json()
    assert [d["id"] for d in listed["results"]] == [str(delivery.pk)]

    response = caller.client.patch(endpoint_url, {"url": "http://10.1.2.3/x"}, format="json")
    # Private networks are allowed in this test; a bad scheme is still refused.
    assert response.status_code == 200
    assert (
        caller.client.patch(endpoint_url, {"url": "gopher://x"}, format="json").status_code == 400
    )

    rotated = caller.client.post(f"{endpoint_url}rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    # A delivery still waiting when its endpoint is deleted is closed, not lost or sent.
    with django_capture_on_commit_callbacks(execute=False):
        _publish(caller, uuid.uuid4(), 2)
    waiting = WebhookDelivery.objects.get(status=WebhookDeliveryStatus.PENDING)
    assert caller.client.delete(endpoint_url).status_code == 204
    assert caller.client.get(endpoint_url).status_code == 404
    assert caller.client.get("/api/v1/webhook-endpoints/").json()["results"] == []
    assert caller.client.delete(endpoint_url).status_code == 404
    # Its delivery log stays readable; the waiting one says why it was never sent.
    kept = caller.client.get("/api/v1/webhook-deliveries/").json()["results"]
    assert {d["id"] for d in kept} == {str(delivery.pk), str(waiting.pk)}
    sent = caller.client.get(delivery_url).json()
    assert sent["status"] == "succeeded" and len(sent["attempts"]) == 1
    waiting.refresh_from_db()
    assert waiting.status == WebhookDeliveryStatus.FAILED
    assert waiting.last_error == "The endpoint was deleted before this delivery was sent."
    assert waiting.attempts.count() == 0
    replay = caller.client.post(f"/api/v1/webhook-deliveries/{waiting.pk}/replay/")
    assert replay.status_code == 409
    # New events no longer create deliveries for it.
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 3)
    assert WebhookDelivery.objects.count() == 2
    assert len(receiver.requests) == 1


@pytest.fixture
def webhook_worker(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, settings: Any
) -> RunningProcess:
    """The real worker, told (like this process) that the local receiver may be reached."""
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1")
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    worker: RunningProcess = request.getfixturevalue("celery_worker_process")
    return worker


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_webhook(
    webhook_worker: RunningProcess, make_caller: MakeCaller, receiver: Receiver
) -> None:
    caller = make_caller()
    secret = _endpoint(caller, receiver.url)["secret"]
    subject = uuid.uuid4()
    _publish(caller, subject, 1)  # autocommit: the send task goes to the broker at once
    _publish(caller, subject, 2)
    ok = receiver.wait_for(2, timeout=30)
    assert [m["data"]["n"] for m in _verified(secret, ok)] == [1, 2], webhook_worker.log()
    assert "realtime.webhook_send" in webhook_worker.log()
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.exclude(status="succeeded").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_outlasts_a_failing_receiver_and_everything_arrives_in_order(
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    settings: Any,
    make_caller: MakeCaller,
    receiver: Receiver,
) -> None:
    """The receiver answers 500 to its first requests, then recovers. Every event reaches it,
    signed, in order per subject, retried by the worker on its own (no due job runs here)."""
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "0.3,0.5,0.8")  # the day, compressed
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "8")
    request.getfixturevalue("webhook_worker")
    receiver.fail_first = 4
    caller = make_caller()
    secret = _endpoint(caller, receiver.url)["secret"]
    first, second = uuid.uuid4(), uuid.uuid4()
    for n in range(3):
        _publish(caller, first, n)
        _publish(caller, second, 10 + n)
    ok = receiver.wait_for(6, timeout=60)
    received = _verified(secret, ok)
    assert len(received) == 6
    by_subject: dict[str, list[int]] = {}
    for message in received:
        by_subject.setdefault(message["data"]["subject_id"], []).append(message["data"]["n"])
    assert by_subject == {str(first): [0, 1, 2], str(second): [10, 11, 12]}
    assert receiver.failures == 4
    _verified(secret, receiver.requests)  # the failed attempts were signed too
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.exclude(status=WebhookDeliveryStatus.SUCCEEDED).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    codes = sorted(
        WebhookDelivery.objects.values_list("attempts__status_code", flat=True),
        key=lambda code: code or 0,
    )
    assert codes.count(500) == 4 and codes.count(200) == 6


@pytest.mark.django_db
def test_broker_down_loses_nothing_the_due_job_sends_later(
    make_caller: MakeCaller,
    receiver: Receiver,
    webhook_settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from realtime.tasks import webhook_send

    caller = make_caller()
    secret = _endpoint(caller, receiver.url)["secret"]

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(webhook_send, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 1)
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.PENDING

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_send_due() == 1
    assert [m["data"]["n"] for m in _verified(secret, receiver.wait_for(1))] == [1]


@pytest.mark.django_db
def test_send_connects_to_the_checked_address_not_a_rebound_one(
    make_caller: MakeCaller,
    receiver: Receiver,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """DNS rebinding: the name resolves to an allowed address when checked, then to a
    forbidden one. The request must go to the checked address, with the original Host."""
    import socket

    from realtime import webhooks

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    # Stand-ins for the outside world: loopback plays an allowed public address (it is where
    # the receiver listens), 10.x the forbidden inside one.
    monkeypatch.setattr(webhooks, "_address_forbidden", lambda a: a.startswith("10."))
    real_getaddrinfo = socket.getaddrinfo
    answers = {"count": 0}

    def rebinding_dns(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.example.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers["count"] += 1
        # Checks see the allowed address; any later lookup is answered with the inside one.
        address = "127.0.0.1" if answers["count"] <= 2 else "10.255.255.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    caller = make_caller()
    port = receiver.server.server_address[1]
    url = f"http://hooks.example.test:{port}/hook"
    _endpoint(caller, url)  # check 1 (creation)
    with django_capture_on_commit_callbacks(execute=True):
        _publish(caller, uuid.uuid4(), 1)  # check 2 (send), then no further lookup
    assert answers["count"] == 2
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["host"] == f"hooks.example.test:{port}"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED
