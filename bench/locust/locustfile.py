"""The load mix for `bench/locust/run.py` (not run by itself: run.py seeds and passes the data).

Per simulated user, with 1-3 s of think time between actions like a person in a label portal:
release lists and details (most of the traffic), artist creates, release submissions (each
user submits releases from a pool of submittable ones until it runs out), and WebSocket
subscribers on /ws/events/ (one user in ten), whose connect time is reported as a request.

Environment: LOAD_TOKEN (owner token), LOAD_RELEASES (release ids to read, comma-separated),
LOAD_SUBMITTABLE (release ids that pass validation), LOAD_BASELINE=1 for the baseline mix
(`/healthz` only: the same server and load without the application's work).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid

import websocket
from locust import HttpUser, User, between, events, task

TOKEN = os.environ.get("LOAD_TOKEN", "")
RELEASES = [r for r in os.environ.get("LOAD_RELEASES", "").split(",") if r]
SUBMITTABLE = [r for r in os.environ.get("LOAD_SUBMITTABLE", "").split(",") if r]
BASELINE = os.environ.get("LOAD_BASELINE") == "1"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


class PortalUser(HttpUser):
    """A label's staff member in the portal: mostly reads, sometimes writes."""

    weight = 9
    wait_time = between(1, 3)

    @task(10)
    def release_list(self) -> None:
        if BASELINE:
            self.client.get("/healthz", name="baseline /healthz")
            return
        page = random.randint(1, 3)
        self.client.get(f"/api/v1/releases/?page={page}", headers=HEADERS, name="release list")

    @task(10)
    def release_detail(self) -> None:
        if BASELINE:
            self.client.get("/healthz", name="baseline /healthz")
            return
        release = random.choice(RELEASES)
        self.client.get(f"/api/v1/releases/{release}/", headers=HEADERS, name="release detail")

    @task(2)
    def artist_create(self) -> None:
        if BASELINE:
            self.client.get("/healthz", name="baseline /healthz")
            return
        self.client.post(
            "/api/v1/artists/",
            json={"name": f"Load Artist {uuid.uuid4().hex[:10]}"},
            headers=HEADERS,
            name="artist create",
        )

    @task(1)
    def release_submit(self) -> None:
        if BASELINE:
            self.client.get("/healthz", name="baseline /healthz")
            return
        if not SUBMITTABLE:
            return
        release = SUBMITTABLE.pop()
        self.client.post(
            f"/api/v1/releases/{release}/submit/", headers=HEADERS, name="release submit"
        )


class StreamSubscriber(User):
    """A dashboard holding the event stream open, resubscribing now and then."""

    weight = 1
    wait_time = between(5, 15)

    def on_start(self) -> None:
        self.ws: websocket.WebSocket | None = None
        self._connect()

    def _connect(self) -> None:
        url = (self.host or "").replace("http://", "ws://") + "/ws/events/"
        started = time.perf_counter()
        error: Exception | None = None
        try:
            self.ws = websocket.create_connection(
                url, header=[f"Authorization: Bearer {TOKEN}"], timeout=10
            )
            self.ws.send(json.dumps({"type": "subscribe", "releases": None}))
            reply = json.loads(self.ws.recv())
            if reply.get("type") != "subscribed":
                raise RuntimeError(f"unexpected first frame {reply}")
        except Exception as exc:
            error = exc
            self.ws = None
        events.request.fire(
            request_type="WS",
            name="subscribe",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    @task
    def ping(self) -> None:
        if self.ws is None:
            self._connect()
            return
        started = time.perf_counter()
        error: Exception | None = None
        try:
            self.ws.send(json.dumps({"type": "ping"}))
            while json.loads(self.ws.recv()).get("type") != "pong":
                pass  # events and heartbeats arrive in between
        except Exception as exc:
            error = exc
            self.ws = None
        events.request.fire(
            request_type="WS",
            name="ping",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def on_stop(self) -> None:
        if self.ws is not None:
            self.ws.close()
