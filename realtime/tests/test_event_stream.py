"""The event stream on a real daphne with Redis and a real WebSocket client, fed by events
committed in this process and in a real Celery worker; and the events API."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from conftest import Caller, MakeCaller, RunningProcess
from distribution.tests.factories import ReleaseFactory, TrackFactory
from distribution.tests.media_files import make_wav
from realtime.models import Event

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _stream(server: RunningProcess, caller: Caller) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/events/",
        additional_headers={"Authorization": f"Bearer {caller.raw_token}"},
    )


def _next_events(ws: ClientConnection, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        message = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        if isinstance(message.get("id"), int):
            events.append(message)
    return events


def _expect(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=10))
        if message.get("type") == kind:
            return message


def test_events_from_a_worker_arrive_and_other_organizations_see_nothing(
    daphne_server: RunningProcess, celery_worker_process: RunningProcess, make_caller: MakeCaller
) -> None:
    caller = make_caller(role="manager")
    stranger = make_caller()
    track = TrackFactory(release__organization=caller.organization)
    with _stream(daphne_server, caller) as ws, _stream(daphne_server, stranger) as other:
        response = caller.client.generic(
            "PUT",
            f"/api/v1/tracks/{track.pk}/audio/",
            make_wav(seconds=0.5),
            content_type="audio/wav",
        )
        assert response.status_code == 201
        # uploaded (from this process), analysing and ready (from the worker)
        events = _next_events(ws, 3)
        assert [e["data"]["to"] for e in events] == ["uploaded", "analysing", "ready"]
        assert {e["type"] for e in events} == {"asset.status_changed"}
        assert all(e["data"]["release_id"] == str(track.release_id) for e in events)
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        other.send(json.dumps({"type": "ping"}))
        assert json.loads(other.recv(timeout=10))["type"] == "pong"  # nothing else came first


def test_subscribe_narrows_and_resume_replays_without_gap_or_duplicate(
    daphne_server: RunningProcess, make_caller: MakeCaller
) -> None:
    caller = make_caller(role="manager")
    watched = ReleaseFactory(organization=caller.organization)
    ignored = ReleaseFactory(organization=caller.organization)

    def edit(release: Any, title: str) -> None:
        # A release edit on a rejected release reopens it: a status event we can trigger at will.
        type(release).objects.filter(pk=release.pk).update(status="rejected")
        assert (
            caller.client.patch(
                f"/api/v1/releases/{release.pk}/", {"title": title}, format="json"
            ).status_code
            == 200
        )

    with _stream(daphne_server, caller) as ws:
        ws.send(json.dumps({"type": "subscribe", "releases": [str(watched.pk)]}))
        _expect(ws, "subscribed")
        edit(ignored, "x")
        edit(watched, "first")
        first = _next_events(ws, 1)[0]
        assert first["data"]["release_id"] == str(watched.pk)
    # Disconnected: these happen while nobody listens.
    edit(watched, "second")
    edit(ignored, "y")
    edit(watched, "third")
    with _stream(daphne_server, caller) as ws:
        ws.send(json.dumps({"type": "subscribe", "releases": [str(watched.pk)]}))
        _expect(ws, "subscribed")
        ws.send(json.dumps({"type": "resume", "after": first["id"]}))
        missed = _next_events(ws, 2)
        resumed = _expect(ws, "resumed")
        edit(watched, "fourth")
        live = _next_events(ws, 1)
    expected = list(
        Event.objects.filter(release_id=watched.pk, id__gt=first["id"])
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert [e["id"] for e in missed + live] == expected
    assert resumed["data"]["last_id"] == missed[-1]["id"]


def test_bad_frames_get_an_error_and_keep_the_connection(
    daphne_server: RunningProcess, make_caller: MakeCaller
) -> None:
    caller = make_caller()
    with _stream(daphne_server, caller) as ws:
        for frame, code in (
            ({"type": "resume", "after": "yesterday"}, "invalid_resume"),
            ({"type": "subscribe", "releases": ["not-an-id"]}, "invalid_releases"),
            ({"type": "dance"}, "unknown_message"),
        ):
            ws.send(json.dumps(frame))
            assert _expect(ws, "error")["data"]["code"] == code
        ws.send(json.dumps({"type": "ping"}))
        assert _expect(ws, "pong")["type"] == "pong"


@pytest.mark.django_db
def test_events_api_lists_in_order_with_filters(make_caller: MakeCaller) -> None:
    caller = make_caller(role="manager")
    release = ReleaseFactory(organization=caller.organization, status="rejected")
    caller.client.patch(f"/api/v1/releases/{release.pk}/", {"title": "Edited"}, format="json")
    other = make_caller()
    body = caller.client.get(f"/api/v1/events/?release={release.pk}").json()
    assert [e["type"] for e in body["results"]] == ["release.status_changed"]
    event = body["results"][0]
    assert event["data"]["to"] == "draft" and event["data"]["subject_id"] == str(release.pk)
    assert caller.client.get(f"/api/v1/events/?since={event['id']}").json()["results"] == []
    assert other.client.get("/api/v1/events/").json()["results"] == []
