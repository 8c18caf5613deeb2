"""The live fan-out (realtime/stream.py): the embedded profile's in-process hub, nothing lost when
Redis is unreachable at publish time, and catch-up after the hub's subscription is cut."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from websockets.sync.client import ClientConnection, connect

from accounts.models import Organization
from conftest import Caller, MakeCaller, RunningProcess
from enterprise_suite import redis_client
from realtime import stream
from realtime.auth import TokenAuthMiddleware
from realtime.events import publish
from realtime.models import Event
from realtime.routing import websocket_urlpatterns
from realtime.tasks import events_stream_pending


def _publish(organization: Organization, kind: str = "test.happened") -> Event:
    with transaction.atomic():
        return publish(
            organization_id=organization.pk,
            type=kind,
            subject_type="test",
            subject_id=uuid.uuid4(),
            data={"n": kind},
        )


# --- Embedded profile: no Redis, the publisher hands frames to this process's hub ------------


@pytest.mark.django_db(transaction=True)
def test_embedded_hub_streams_to_the_right_organization_only(
    settings: Any, make_caller: MakeCaller
) -> None:
    settings.REDIS_URL = ""  # the embedded profile's path, in either test profile
    caller = make_caller()
    stranger = make_caller()
    app = TokenAuthMiddleware(URLRouter(websocket_urlpatterns))

    def communicator(who: Caller) -> WebsocketCommunicator:
        headers = [(b"authorization", f"Bearer {who.raw_token}".encode())]
        return WebsocketCommunicator(app, "/ws/events/", headers=headers)

    async def scenario() -> tuple[list[dict[str, Any]], bool, list[int]]:
        mine, theirs = communicator(caller), communicator(stranger)
        assert (await mine.connect())[0] and (await theirs.connect())[0]
        published = [
            await database_sync_to_async(_publish)(caller.organization, f"test.{n}")
            for n in range(3)
        ]
        received = [await mine.receive_json_from(timeout=5) for _ in published]
        stranger_quiet = await theirs.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await theirs.disconnect()
        running = stream.hub()
        if running.task is not None:
            running.task.cancel()
        return received, stranger_quiet, [event.pk for event in published]

    received, stranger_quiet, published_ids = async_to_sync(scenario)()
    assert [frame["id"] for frame in received] == published_ids
    assert [frame["type"] for frame in received] == ["test.0", "test.1", "test.2"]
    assert received[0]["data"]["subject_type"] == "test"
    assert stranger_quiet


# --- Services profile: Redis pub/sub ---------------------------------------------------------


def _listen(pattern: str) -> Any:
    pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pattern)
    return pubsub


def _frames(pubsub: Any, count: int, timeout: float = 5) -> list[stream.StreamFrame]:
    frames: list[stream.StreamFrame] = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message and message["type"] == "pmessage":
            frames.append(stream.decode(message["channel"].decode(), message["data"]))
    return frames


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_redis_down_at_publish_loses_nothing(
    monkeypatch: pytest.MonkeyPatch, make_caller: MakeCaller
) -> None:
    caller = make_caller()
    pubsub = _listen(f"{stream.channel_prefix()}{caller.organization.pk}")
    try:
        # Redis unreachable for the publisher: a client aimed at a port nobody listens on.
        dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        monkeypatch.setattr(stream, "shared_redis", lambda: dead)
        lost = [_publish(caller.organization, f"test.lost.{n}") for n in range(2)]
        assert set(Event.objects.filter(stream_pending=True).values_list("pk", flat=True)) == {
            event.pk for event in lost
        }
        assert _frames(pubsub, 1, timeout=0.5) == []

        monkeypatch.setattr(stream, "shared_redis", redis_client.shared_redis)
        # Redis is back: the next publish sends what was missed first, then itself.
        after = _publish(caller.organization, "test.after")
        frames = _frames(pubsub, 3)
        assert [frame.event_id for frame in frames] == [lost[0].pk, lost[1].pk, after.pk]
        assert json.loads(frames[0].text)["type"] == "test.lost.0"
        assert not Event.objects.filter(stream_pending=True).exists()
    finally:
        pubsub.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_pending_job_republishes_when_no_publish_follows(
    monkeypatch: pytest.MonkeyPatch, make_caller: MakeCaller
) -> None:
    caller = make_caller()
    pubsub = _listen(f"{stream.channel_prefix()}{caller.organization.pk}")
    try:
        dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        monkeypatch.setattr(stream, "shared_redis", lambda: dead)
        lost = _publish(caller.organization, "test.lost")
        assert events_stream_pending() == 0  # still down: nothing sent, still pending
        assert Event.objects.get(pk=lost.pk).stream_pending
        monkeypatch.setattr(stream, "shared_redis", redis_client.shared_redis)
        assert events_stream_pending() == 1
        assert [frame.event_id for frame in _frames(pubsub, 1)] == [lost.pk]
        assert not Event.objects.get(pk=lost.pk).stream_pending
    finally:
        pubsub.close()


def _ws(server: RunningProcess, caller: Caller) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/events/",
        additional_headers={"Authorization": f"Bearer {caller.raw_token}"},
    )


def _next_event(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        if isinstance(message.get("id"), int):
            return message


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_hub_that_lost_its_subscription_catches_up_from_the_outbox(
    daphne_server: RunningProcess, make_caller: MakeCaller
) -> None:
    caller = make_caller()
    with _ws(daphne_server, caller) as ws:
        first = _publish(caller.organization, "test.first")
        assert _next_event(ws)["id"] == first.pk
        # Committed while nobody publishes them (as if PUBLISH went nowhere during an outage).
        unseen = [
            Event.objects.create(
                organization=caller.organization,
                type=f"test.unseen.{n}",
                subject_type="test",
                subject_id=uuid.uuid4(),
            )
            for n in range(2)
        ]
        # Cut the server's subscription (only the hub's connections, found by name).
        admin = redis_client.shared_redis()
        hubs = [c for c in admin.client_list() if c.get("name") == stream.HUB_CLIENT_NAME]
        assert hubs, "the daphne process holds a named subscription"
        for connection in hubs:
            admin.client_kill_filter(_id=connection["id"])
        received = [_next_event(ws) for _ in unseen]
        assert [event["id"] for event in received] == [event.pk for event in unseen]
        # And live delivery works again on the new subscription.
        later = _publish(caller.organization, "test.later")
        assert _next_event(ws)["id"] == later.pk
