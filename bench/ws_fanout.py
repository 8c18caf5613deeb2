"""Commit-to-client latency of the event stream with 1,000 WebSocket clients on one daphne.

The issue's target: with 1,000 concurrent clients of `/ws/events/` on one daphne process, p99
of the time from an event's commit to its arrival at each client under 250 ms, and within 2x
of a minimal asyncio `websockets` server fed by raw Redis pub/sub, measured in the same run.

This creates its own database (`enterprise_suite_ws_bench`, migrated), uses Redis index 13
(channel prefix `ws-bench`), seeds an organization and an owner token, raises RLIMIT_NOFILE to
its hard limit (the servers inherit it), and then, for each server in turn:

* starts it: the project's server (`python -m enterprise_suite.server`: one Redis pub/sub
  subscription per process hands each event, encoded once, to every local connection; see
  `realtime/stream.py`) or the baseline (this script with `--baseline-server`: a
  `websockets` server that subscribes to one Redis pub/sub channel and `broadcast`s each
  message to every connection);
* opens `--clients` WebSocket connections from this process (one asyncio loop, a limited number
  of handshakes at a time), all with `Authorization: Bearer <token>`; a warm-up event must
  reach every client before measuring;
* publishes `--events` events, `--interval` apart, from a thread: the project through
  `realtime.events.publish` inside `transaction.atomic()`, the baseline by writing the same
  `Event` row in a transaction and then `PUBLISH`ing its `event_message` JSON. The commit time
  is taken by an `on_commit` callback registered before the event's own (so the fan-out call
  counts in the latency); each client records `time.time()` when a frame with the event's id
  arrives. Latency = arrival - commit, over every (client, event) pair; "all" is the time until
  the event reached its last client.

    .venv/bin/python bench/ws_fanout.py [--clients 1000] [--events 20]

Exit status: 0 after a measurement, whatever the figures; 1 if a server fails, a client cannot
connect, or fewer than 99% of the expected arrivals happen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/ws_fanout.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BIN,
    DEFAULT_DATABASE_URL,
    HOST,
    BenchError,
    Server,
    bench_environment,
    create_database,
    free_port,
    migrate,
    postgres_target,
    web_server,
    with_path,
)

DATABASE_NAME = "enterprise_suite_ws_bench"
REDIS_URL = "redis://127.0.0.1:6379/13"
PREFIX = "ws-bench"
BASELINE_CHANNEL = f"{PREFIX}:baseline"
TARGET_P99_MS = 250.0
TARGET_RATIO = 2.0
MIN_ARRIVED = 0.99


# --- The servers' side ---------------------------------------------------------------------


async def baseline_server(port: int, redis_url: str, channel: str) -> None:
    """The minimal server: every message of the Redis channel to every connection."""
    import redis.asyncio as redis
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.http11 import Request, Response

    clients: set[ServerConnection] = set()

    def healthz(connection: ServerConnection, request: Request) -> Response | None:
        # web_server waits for /healthz to answer 200, as it does for daphne.
        if request.path == "/healthz":
            return connection.respond(HTTPStatus.OK, "ok\n")
        return None

    async def handler(connection: ServerConnection) -> None:
        clients.add(connection)
        try:
            await connection.wait_closed()
        finally:
            clients.discard(connection)

    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    async with serve(
        handler,
        HOST,
        port,
        process_request=healthz,
        ping_interval=None,
        max_queue=None,
        backlog=2048,
    ):
        print(f"baseline server on {HOST}:{port}", flush=True)
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(clients, message["data"].decode())


# --- Clients -------------------------------------------------------------------------------


@dataclass
class Clients:
    """`count` connections to `uri`; `arrivals[event id]` lists each client's arrival time."""

    uri: str
    token: str
    count: int
    arrivals: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    connections: list[Any] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    async def open(self, concurrency: int = 50) -> None:
        from websockets.asyncio.client import connect

        semaphore = asyncio.Semaphore(concurrency)
        headers = {"Authorization": f"Bearer {self.token}"}

        async def one() -> None:
            async with semaphore:
                try:
                    connection = await connect(
                        self.uri,
                        additional_headers=headers,
                        open_timeout=60,
                        ping_interval=None,
                        max_queue=None,
                    )
                except Exception as error:  # reported as a failure of the server
                    self.failures.append(repr(error))
                    return
                self.connections.append(connection)
                self.readers.append(asyncio.create_task(self._read(connection)))

        await asyncio.gather(*(one() for _ in range(self.count)))

    async def _read(self, connection: Any) -> None:
        arrivals = self.arrivals
        try:
            async for frame in connection:
                now = time.time()
                message = json.loads(frame)
                event_id = message.get("id")
                if isinstance(event_id, int):
                    arrivals[event_id].append(now)
        except Exception:  # noqa: S110  a closed connection ends the reader; counts show it
            pass

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


# --- Publishers (run in a thread of their own) -----------------------------------------------


def publish_project(organization_id: uuid.UUID, seq: int) -> tuple[int, float]:
    """One event through `realtime.events.publish`: (id, commit time)."""
    from django.db import transaction

    from realtime.events import publish

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # runs before the fan-out
        event = publish(
            organization_id=organization_id,
            type="bench.ping",
            subject_type="bench",
            subject_id=uuid.uuid4(),
            data={"seq": seq},
        )
    return event.pk, committed[0]


def baseline_publisher(redis_url: str) -> Callable[[uuid.UUID, int], tuple[int, float]]:
    """The same Event row committed, then its JSON PUBLISHed on the baseline's channel."""
    import redis
    from django.db import transaction

    from realtime.models import Event
    from realtime.selectors import event_message

    client = redis.Redis.from_url(redis_url)

    def publish(organization_id: uuid.UUID, seq: int) -> tuple[int, float]:
        with transaction.atomic():
            event = Event.objects.create(
                organization_id=organization_id,
                type="bench.ping",
                subject_type="bench",
                subject_id=uuid.uuid4(),
                data={"seq": seq},
            )
        committed = time.time()
        client.publish(BASELINE_CHANNEL, json.dumps(event_message(event)))
        return event.pk, committed

    return publish


# --- A measured run --------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    clients: int
    events: int
    latencies_ms: list[float]  # one per (client, event) arrival
    completion_ms: list[float]  # per event: until its last arrival
    connect_seconds: float

    @property
    def expected(self) -> int:
        return self.clients * self.events

    @property
    def arrived(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


async def measure(
    name: str,
    uri: str,
    token: str,
    publish: Callable[[uuid.UUID, int], tuple[int, float]],
    organization_id: uuid.UUID,
    options: argparse.Namespace,
    executor: ThreadPoolExecutor,
) -> Result:
    loop = asyncio.get_running_loop()
    clients = Clients(uri, token, options.clients)
    started = time.monotonic()
    await clients.open(options.concurrency)
    connect_seconds = time.monotonic() - started
    try:
        if clients.failures:
            raise BenchError(
                f"{name}: {len(clients.failures)} of {options.clients} clients failed to "
                f"connect, e.g. {clients.failures[0]}"
            )
        # Warm-up: an event must reach every client (the baseline adds a connection to its
        # set only once the handshake is done), and the first fan-out pays for imports.
        for _attempt in range(10):
            event_id, _ = await loop.run_in_executor(executor, publish, organization_id, -1)
            deadline = time.monotonic() + 5
            while (
                len(clients.arrivals.get(event_id, ())) < options.clients
                and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.05)
            if len(clients.arrivals.get(event_id, ())) >= options.clients:
                break
        else:
            reached = len(clients.arrivals.get(event_id, ()))
            raise BenchError(
                f"{name}: the warm-up events never reached every client (last: "
                f"{reached}/{options.clients}, {len(clients.connections)} connected)"
            )
        await asyncio.sleep(options.interval)

        commits: dict[int, float] = {}
        for seq in range(options.events):
            event_id, committed = await loop.run_in_executor(
                executor, publish, organization_id, seq
            )
            commits[event_id] = committed
            await asyncio.sleep(options.interval)
        deadline = time.monotonic() + options.drain
        while time.monotonic() < deadline and any(
            len(clients.arrivals.get(e, ())) < options.clients for e in commits
        ):
            await asyncio.sleep(0.05)
    finally:
        await clients.close()

    latencies: list[float] = []
    completion: list[float] = []
    for event_id, committed in commits.items():
        times = clients.arrivals.get(event_id, [])
        latencies.extend((t - committed) * 1000 for t in times)
        if len(times) == options.clients:
            completion.append((max(times) - committed) * 1000)
    return Result(name, options.clients, options.events, latencies, completion, connect_seconds)


# --- Setup -----------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    return bench_environment(
        "enterprise_suite.settings",
        {
            "DATABASE_URL": with_path(
                os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, f"/{DATABASE_NAME}"
            ),
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": PREFIX,
            "CHANNELS_PREFIX": PREFIX,
        },
    )


def seed(env: dict[str, str]) -> tuple[uuid.UUID, str]:
    """A new organization with an owner token: (organization id, token)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections, transaction

    from accounts.choices import Role
    from accounts.models import Membership
    from accounts.services import organization_create, token_create

    suffix = uuid.uuid4().hex[:8]
    with transaction.atomic():
        organization = organization_create(
            name=f"WS Bench {suffix}",
            owner_email="owner@ws-bench.example",
            slug=f"ws-bench-{suffix}",
        )
        owner = Membership.objects.get(organization=organization, role=Role.OWNER)
        _, token = token_create(membership=owner, name="ws-bench", scopes=["read"])
    connections.close_all()
    return organization.pk, token


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def check_alive(server: Server, name: str) -> None:
    if server.process.poll() is not None:
        raise BenchError(f"{name} exited with {server.process.returncode}:\n{server.tail()}")


async def run(
    options: argparse.Namespace, env: dict[str, str], organization_id: uuid.UUID, token: str
) -> list[Result]:
    results: list[Result] = []
    # One thread publishes: Django's ORM is sync-only.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publisher")
    script = str(Path(__file__).resolve())
    try:
        for name in ("project server", "minimal server"):
            port = free_port()
            command = None
            if name == "minimal server":
                command = [
                    str(BIN / "python"),
                    script,
                    "--baseline-server",
                    "--port",
                    str(port),
                    "--redis",
                    REDIS_URL,
                ]
                publish = await asyncio.get_running_loop().run_in_executor(
                    executor, baseline_publisher, REDIS_URL
                )
                uri = f"ws://{HOST}:{port}/"
            else:
                publish = publish_project
                uri = f"ws://{HOST}:{port}/ws/events/"
            with web_server(env, port, command=command, stop_timeout=10) as server:
                try:
                    result = await measure(
                        name, uri, token, publish, organization_id, options, executor
                    )
                except BenchError as error:
                    raise BenchError(f"{error}\nserver log:\n{server.tail(15)}") from None
                check_alive(server, name)
            results.append(result)
            print(row(result), flush=True)
    finally:
        executor.shutdown(wait=True)
    return results


# --- Report ----------------------------------------------------------------------------------

HEADER = (
    f"{'server':<34} {'clients':>7} {'events':>6} {'arrived':>13} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'max ms':>8} {'all p50':>8} {'all max':>8} {'connect s':>9}"
)


def row(r: Result) -> str:
    all_p50 = statistics.median(r.completion_ms) if r.completion_ms else float("nan")
    all_max = max(r.completion_ms) if r.completion_ms else float("nan")
    top = max(r.latencies_ms) if r.latencies_ms else float("nan")
    return (
        f"{r.name:<34} {r.clients:>7} {r.events:>6} {f'{r.arrived}/{r.expected}':>13} "
        f"{r.p50:>8.1f} {r.p99:>8.1f} {top:>8.1f} {all_p50:>8.1f} {all_max:>8.1f} "
        f"{r.connect_seconds:>9.1f}"
    )


def summary(results: list[Result]) -> str:
    baseline = next(r for r in results if r.name == "minimal server")
    lines = []
    for r in results:
        if r is baseline:
            continue
        ratio = r.p99 / baseline.p99 if baseline.p99 else float("inf")
        verdict = "met" if r.p99 < TARGET_P99_MS and ratio <= TARGET_RATIO else "missed"
        lines.append(
            f"{r.name}: {r.clients} clients x {r.events} events: p50 {r.p50:.0f} ms, "
            f"p99 {r.p99:.0f} ms, arrived {r.arrived}/{r.expected}; minimal server: p50 "
            f"{baseline.p50:.0f} ms, p99 {baseline.p99:.0f} ms, arrived "
            f"{baseline.arrived}/{baseline.expected}; ratio p99 {ratio:.1f}x "
            f"(target p99 < {TARGET_P99_MS:.0f} ms, within {TARGET_RATIO:.0f}x: {verdict})"
        )
    return "\n".join(lines)


# --- Entry point -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between events")
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes at a time")
    parser.add_argument("--drain", type=float, default=10, help="seconds to wait for stragglers")
    parser.add_argument("--baseline-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--redis", default=REDIS_URL, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.baseline_server:
        asyncio.run(baseline_server(options.port, options.redis, BASELINE_CHANNEL))
        return 0

    limit = raise_file_limit()
    if limit < options.clients * 2 + 100:
        print(f"RLIMIT_NOFILE is {limit}: too low for {options.clients} clients", file=sys.stderr)
        return 1
    env = environment()
    name, params = postgres_target(env["DATABASE_URL"])
    create_database(name, params)
    migrate(env)
    try:
        organization_id, token = seed(env)  # before the loop: Django's ORM is sync-only
        results = asyncio.run(run(options, env, organization_id, token))
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print()
    print(HEADER)
    for result in results:
        print(row(result))
    print(summary(results))
    short = [r for r in results if r.arrived < MIN_ARRIVED * r.expected]
    for r in short:
        print(f"error: {r.name}: only {r.arrived}/{r.expected} arrivals", file=sys.stderr)
    return 1 if short else 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
