"""Inbound webhooks accepted per second, against a bare view that pushes the body to Redis.

One daphne process (`enterprise_suite.server`, bench.settings) serves both the project's
`POST /api/v1/inbound/{store}/` and the baseline `POST /bench/inbound/{store}/` (bench/views.py:
no DRF, csrf_exempt, LPUSH of the raw body on a module-level Redis client, 204). Its own
database `enterprise_suite_inbound_bench` (recreated each run), Redis index 14 (flushed before
and after), one Store whose secret is passed in the server's environment, and Celery not eager
with its broker on that index: each accepted webhook really enqueues its task, and no worker
runs (the queue is checked, then purged).

Every request carries a new `message_id`, a fresh timestamp and a valid signature, all built
before timing. Threaded httpx keep-alive clients send interleaved blocks of about a second
(project, baseline, baseline, project, ...). The signature check is then timed alone in this
process (`timeit`) and given as a share of a request's server time (1 / throughput).

    .venv/bin/python bench/inbound_webhooks.py

Exit status: 0 after a measurement, 1 when the server fails, a request does not get the expected
answer, or the rows or queued tasks do not match the requests sent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import timeit
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

if __package__ in (None, ""):  # run as `python bench/inbound_webhooks.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    BenchError,
    bench_environment,
    create_database,
    free_port,
    migrate,
    postgres_target,
    web_server,
    with_path,
)

DATABASE_NAME = "enterprise_suite_inbound_bench"
REDIS_DB = 14
STORE_CODE = "bench-inbound"
SECRET = "bench-inbound-secret-" + "0123456789abcdef" * 2
QUEUE = "default"  # CELERY_TASK_DEFAULT_QUEUE, CELERY_DEFAULT_QUEUE unset below
PROJECT_PATH = f"/api/v1/inbound/{STORE_CODE}/"
BASELINE_PATH = f"/bench/inbound/{STORE_CODE}/"
MESSAGE_TEXT = "Delivery ingested; 12 tracks, artwork 3000x3000, all territories."

Request = tuple[bytes, dict[str, str]]


def secret_env_name() -> str:
    return f"STORE_{STORE_CODE.upper().replace('-', '_')}_WEBHOOK_SECRET"


def environment() -> dict[str, str]:
    return bench_environment(
        "bench.settings",
        {
            "DATABASE_URL": os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
            "BENCH_DATABASE_NAME": DATABASE_NAME,
            "BENCH_REDIS_DB": str(REDIS_DB),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            secret_env_name(): SECRET,
        },
        unset=["CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_DEFAULT_QUEUE"],
    )


def setup(env: dict[str, str]) -> str:
    """Recreate and migrate the bench database, add the store, flush Redis; the Redis URL."""
    os.environ.update(env)
    import django
    from django.conf import settings

    db = settings.DATABASES["default"]
    assert db["NAME"] == DATABASE_NAME, db["NAME"]
    _, params = postgres_target(with_path(env["DATABASE_URL"], f"/{DATABASE_NAME}"))
    create_database(DATABASE_NAME, params, recreate=True)
    migrate(env)
    django.setup()
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    redis_url: str = settings.REDIS_URL
    flush_redis(redis_url)

    from django.db import connections

    from distribution.choices import TransportKind
    from distribution.models import Store

    Store.objects.create(
        code=STORE_CODE,
        name="Inbound Bench Store",
        dpid="PADPIDA0000000001X",
        transport=TransportKind.FILESYSTEM,
        transport_settings={"root": "drop-bench-inbound"},
    )
    connections.close_all()
    print(f"database {DATABASE_NAME}, redis {redis_url}, store {STORE_CODE}, celery not eager")
    return redis_url


def flush_redis(redis_url: str) -> None:
    import redis

    assert int(urlsplit(redis_url).path.lstrip("/") or 0) == REDIS_DB, redis_url
    redis.Redis.from_url(redis_url).flushdb()


# --- Requests ----------------------------------------------------------------------------------


def body(message_id: str) -> bytes:
    return json.dumps(
        {
            "message_id": message_id,
            "acknowledges": "ERN-" + uuid.uuid4().hex[:24].upper(),
            "status": "accepted",
            "text": MESSAGE_TEXT,
        },
        separators=(",", ":"),
    ).encode()


def signed_requests(count: int) -> list[Request]:
    """`count` requests, each a new message id, a fresh timestamp and a valid signature."""
    from realtime.inbound import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_for

    timestamp = str(int(time.time()))
    requests = []
    for _ in range(count):
        data = body(f"bench-{uuid.uuid4().hex}")
        requests.append(
            (
                data,
                {
                    "Content-Type": "application/json",
                    TIMESTAMP_HEADER: timestamp,
                    SIGNATURE_HEADER: signature_for(secret=SECRET, timestamp=timestamp, body=data),
                },
            )
        )
    return requests


# --- Load --------------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    path: str
    expected_status: int
    blocks: list[tuple[int, float]] = field(default_factory=list)  # (requests, seconds)
    sent: int = 0

    def rate(self) -> float:
        return statistics.median(count / seconds for count, seconds in self.blocks)


class Load:
    """`concurrency` threads, each with its own keep-alive connection, sharing out requests."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.clients = [httpx.Client(base_url=base_url, timeout=30) for _ in range(concurrency)]
        self.pool = ThreadPoolExecutor(max_workers=concurrency)

    def close(self) -> None:
        self.pool.shutdown()
        for client in self.clients:
            client.close()

    @staticmethod
    def _send(client: httpx.Client, side: Side, requests: list[Request]) -> None:
        for data, headers in requests:
            response = client.post(side.path, content=data, headers=headers)
            if response.status_code != side.expected_status:
                raise BenchError(
                    f"{side.path} answered {response.status_code} "
                    f"(expected {side.expected_status}): {response.text:.300}"
                )
            if side.expected_status == 202 and response.json().get("duplicate") is not False:
                raise BenchError(f"{side.path} saw a duplicate: {response.text:.300}")

    def block(self, side: Side, requests: list[Request]) -> float:
        """Send `requests` spread over the clients; the wall-clock seconds they took."""
        count = len(self.clients)
        started = time.perf_counter()
        futures = [
            self.pool.submit(self._send, client, side, requests[index::count])
            for index, client in enumerate(self.clients)
        ]
        for future in futures:
            future.result()
        seconds = time.perf_counter() - started
        side.sent += len(requests)
        return seconds


def measure(load: Load, project: Side, baseline: Side, rounds: int, block_seconds: float) -> None:
    # Warm up both sides, and size the blocks to about `block_seconds` each.
    sizes = {}
    for side in (project, baseline):
        load.block(side, signed_requests(50))
        seconds = load.block(side, signed_requests(200))
        sizes[side.name] = max(50, int(200 / seconds * block_seconds))
    # Every request of every timed block, built before timing.
    batches = {
        side.name: [signed_requests(sizes[side.name]) for _ in range(rounds)]
        for side in (project, baseline)
    }
    for number in range(rounds):
        order = (project, baseline) if number % 2 == 0 else (baseline, project)
        for side in order:
            requests = batches[side.name][number]
            side.blocks.append((len(requests), load.block(side, requests)))


# --- Signature check in-process ----------------------------------------------------------------


def best_seconds(function: Callable[[], object], number: int = 2000, repeat: int = 5) -> float:
    """The fastest mean time of one call, over `repeat` runs of `number` calls."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def in_process_costs() -> dict[str, float]:
    """Seconds per call: the HMAC alone, the whole signature check, parse + validation."""
    from distribution.models import Store
    from realtime.api.inbound import InboundAcknowledgementSerializer
    from realtime.inbound import (
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        inbound_signature_verify,
        signature_for,
    )

    store = Store(code=STORE_CODE)
    ((data, headers),) = signed_requests(1)
    timestamp, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]

    def verify() -> None:
        inbound_signature_verify(
            store=store, secret=SECRET, timestamp=timestamp, signature=signature, body=data
        )

    def parse_and_validate() -> None:
        serializer = InboundAcknowledgementSerializer(data=json.loads(data))
        if not serializer.is_valid():
            raise BenchError(f"the bench body does not validate: {serializer.errors}")

    return {
        "hmac": best_seconds(lambda: signature_for(secret=SECRET, timestamp=timestamp, body=data)),
        "verify": best_seconds(verify),
        "parse": best_seconds(parse_and_validate, number=500),
        "body_bytes": float(len(data)),
    }


# --- Checks ------------------------------------------------------------------------------------


def check_stored(redis_url: str, project: Side, baseline: Side) -> tuple[int, int]:
    """Rows stored and tasks queued must match the 202s; the baseline list its 204s."""
    import redis

    from bench.views import INBOUND_LIST
    from realtime.models import InboundWebhook

    rows = InboundWebhook.objects.filter(store__code=STORE_CODE).count()
    client = redis.Redis.from_url(redis_url)
    queued, pushed = int(client.llen(QUEUE)), int(client.llen(INBOUND_LIST))
    if rows != project.sent or queued != project.sent or pushed != baseline.sent:
        raise BenchError(
            f"sent {project.sent} webhooks: {rows} rows stored, {queued} tasks queued; "
            f"sent {baseline.sent} to the baseline: {pushed} bodies pushed"
        )
    return rows, queued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (4)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of both sides (6)")
    parser.add_argument("--block-seconds", type=float, default=1.0, help="per block (1.0)")
    args = parser.parse_args(argv)

    env = environment()
    redis_url = setup(env)
    project = Side("project", PROJECT_PATH, 202)
    baseline = Side("baseline", BASELINE_PATH, 204)
    try:
        with web_server(env, free_port()) as server:
            print(f"daphne pid {server.process.pid} on {server.base_url}")
            load = Load(server.base_url, args.concurrency)
            try:
                measure(load, project, baseline, args.rounds, args.block_seconds)
            except Exception:
                print(f"daphne log:\n{server.tail()}", file=sys.stderr)
                raise
            finally:
                load.close()
            if server.process.poll() is not None:
                raise BenchError(f"daphne died during the run:\n{server.tail()}")
        rows, queued = check_stored(redis_url, project, baseline)
    finally:
        flush_redis(redis_url)  # purge the queued tasks: no worker will ever run them
    print(f"{rows} webhooks stored, {queued} tasks queued (purged), {baseline.sent} bodies pushed")

    costs = in_process_costs()
    project_rate, baseline_rate = project.rate(), baseline.rate()
    request_seconds = 1 / project_rate
    for side in (project, baseline):
        rates = ", ".join(f"{count / seconds:.0f}" for count, seconds in side.blocks)
        print(f"{side.name}: req/s per block {rates}")
    print(
        f"in-process, {costs['body_bytes']:.0f}-byte body: HMAC {costs['hmac'] * 1e6:.1f} µs, "
        f"whole signature check {costs['verify'] * 1e6:.1f} µs, "
        f"JSON parse + serializer validation {costs['parse'] * 1e6:.0f} µs; "
        f"a request {request_seconds * 1e3:.2f} ms of server time (1 / throughput)"
    )
    print(
        f"inbound_webhooks: project {project_rate:.0f} req/s, "
        f"bare Redis view {baseline_rate:.0f} req/s, ratio {project_rate / baseline_rate:.2f}x; "
        f"signature check {costs['verify'] * 1e6:.0f} µs "
        f"({costs['verify'] / request_seconds:.2%} of a {request_seconds * 1e3:.1f} ms request)"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"inbound_webhooks: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
