"""Release endpoints of the API against hand-written baseline views, as a throughput ratio.

One daphne process serves both the API (`/api/v1/releases/`) and the baselines
(`/bench/releases/`, see bench/views.py) from the benchmark's own database and Redis index
(bench/settings.py). After checking that both answer the same documents, a keep-alive client in
this process sends interleaved rounds of requests (API then baseline, then baseline then API, ...)
and prints requests per second for each and the ratio API / baseline.

Run with `make bench`. Exit status: 0 after a measurement (whatever the ratio), 1 when the server
or a request fails, 2 when the API's documents differ from the baseline's.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if __package__ in (None, ""):  # run as `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    BenchError,
    MigrationFailed,
    bench_environment,
    create_database,
    free_port,
    migrate,
    web_server,
)

if TYPE_CHECKING:
    from bench.seed import Fixture

# The API's throttle keeps one timestamp per request in the window: a window of one second keeps
# that list as short as the production limit keeps it (1200/min), while never throttling.
DEFAULT_RATE_LIMIT = "100000000/s"
PAGE_SIZE = 50


class DocumentsDiffer(Exception):
    """The API and the baseline answered different documents: exit status 2."""


@dataclass
class Endpoint:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body_size: int = 0  # every answer under load must be exactly the checked document


@dataclass
class Comparison:
    name: str
    api: Endpoint
    baseline: Endpoint
    requests_per_block: int = 0
    # (requests, seconds) per round
    api_blocks: list[tuple[int, float]] = field(default_factory=list)
    baseline_blocks: list[tuple[int, float]] = field(default_factory=list)


# --- Setup: database, data, server -------------------------------------------------------------


def server_environment(rate_limit: str) -> dict[str, str]:
    """bench.settings replaces the database name and the Redis index of these URLs."""
    return bench_environment(
        "bench.settings",
        {
            "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
            "API_RATE_LIMIT": rate_limit,
        },
    )


def _postgres_params(db: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "connect_timeout": 5,
    }


def prepare_data(env: dict[str, str]) -> Fixture:
    """Create, migrate and seed the bench database as needed; issue a fresh read token."""
    os.environ.update(env)
    import django
    from django.conf import settings

    db = settings.DATABASES["default"]
    name, params = db["NAME"], _postgres_params(db)
    print(f"database {db['NAME']}, redis {settings.REDIS_URL}, rate limit {env['API_RATE_LIMIT']}")
    created = create_database(name, params)
    try:
        migrate(env)
    except MigrationFailed:
        if created:
            raise
        # The bench database is disposable: migrations rewritten during development are no
        # reason to stop, so start again from an empty database.
        print("the migrations do not apply to the bench database: recreating it")
        create_database(name, params, recreate=True)
        created = True
        migrate(env)
    django.setup()
    from django.db import connections

    from bench import seed

    if not seed.seed_is_current():
        if not created:
            print("bench data missing or outdated: recreating the bench database")
            connections.close_all()
            create_database(name, params, recreate=True)
            migrate(env)
        started = time.perf_counter()
        seed.seed()
        print(f"seeded {seed.RELEASES} releases in {time.perf_counter() - started:.1f}s")
    fixture = seed.fixture()
    connections.close_all()
    return fixture


@contextmanager
def daphne(env: dict[str, str], port: int) -> Iterator[str]:
    """A daphne process serving bench.settings on `port`; stopped on exit, whatever happens."""
    with web_server(env, port) as server:
        print(f"daphne pid {server.process.pid} on {server.base_url}")
        try:
            yield server.base_url
        except DocumentsDiffer:
            raise
        except Exception:
            print(f"daphne log:\n{server.tail()}", file=sys.stderr)
            raise
        if server.process.poll() is not None:
            raise BenchError(f"daphne died during the run:\n{server.tail()}")


# --- Checking that both sides answer the same documents ----------------------------------------


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two decoded JSON documents first differ, or None when they are equal."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r:.80} != {type(b).__name__} {b!r:.80}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: present only in {'api' if key in a else 'baseline'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path}: {len(a)} items != {len(b)} items"
    return None if a == b else f"{path}: {a!r:.80} != {b!r:.80}"


def fetch(client: httpx.Client, endpoint: Endpoint) -> Any:
    response = client.get(endpoint.path, headers=endpoint.headers)
    if response.status_code != 200:
        raise BenchError(f"{endpoint.path} answered {response.status_code}: {response.text:.300}")
    endpoint.body_size = len(response.content)
    return response.json()


def check_documents(base_url: str, comparisons: Sequence[Comparison], fixture: Fixture) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for comparison in comparisons:
            api, baseline = fetch(client, comparison.api), fetch(client, comparison.baseline)
            if comparison.name == "release_list":
                if api.get("count") != fixture.releases or len(api.get("results", [])) != PAGE_SIZE:
                    raise DocumentsDiffer(
                        f"release_list: expected a page of {PAGE_SIZE} of {fixture.releases} "
                        f"releases, got count={api.get('count')}"
                    )
                api = api["results"]
            difference = first_difference(api, baseline)
            if difference:
                raise DocumentsDiffer(f"{comparison.name}: api != baseline at {difference}")
            print(
                f"{comparison.name}: documents equal "
                f"(api {comparison.api.body_size} bytes, "
                f"baseline {comparison.baseline.body_size} bytes)"
            )


# --- Load --------------------------------------------------------------------------------------


class Load:
    """`concurrency` threads, each with its own keep-alive connection, sharing out N requests."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.concurrency = concurrency
        self.clients = [httpx.Client(base_url=base_url, timeout=30) for _ in range(concurrency)]
        self.pool = ThreadPoolExecutor(max_workers=concurrency)

    def close(self) -> None:
        self.pool.shutdown()
        for client in self.clients:
            client.close()

    @staticmethod
    def _send(client: httpx.Client, endpoint: Endpoint, count: int) -> None:
        for _ in range(count):
            response = client.get(endpoint.path, headers=endpoint.headers)
            if response.status_code != 200 or len(response.content) != endpoint.body_size:
                raise BenchError(
                    f"{endpoint.path} answered {response.status_code} with "
                    f"{len(response.content)} bytes (expected 200, {endpoint.body_size} bytes): "
                    f"{response.text:.300}"
                )

    def block(self, endpoint: Endpoint, requests: int) -> float:
        """Send `requests` requests; the wall-clock seconds they took."""
        shares = [requests // self.concurrency] * self.concurrency
        for index in range(requests % self.concurrency):
            shares[index] += 1
        started = time.perf_counter()
        futures = [
            self.pool.submit(self._send, client, endpoint, share)
            for client, share in zip(self.clients, shares, strict=True)
            if share
        ]
        for future in futures:
            future.result()
        return time.perf_counter() - started

    def rate_for(self, endpoint: Endpoint, seconds: float) -> float:
        """Requests per second over about `seconds` (used for warm-up and calibration)."""
        sent, spent, requests = 0, 0.0, self.concurrency
        while spent < seconds:
            spent += self.block(endpoint, requests)
            sent += requests
            requests = min(requests * 2, 200)
        return sent / spent


def rate(blocks: Sequence[tuple[int, float]]) -> float:
    return sum(n for n, _ in blocks) / sum(s for _, s in blocks)


def measure(
    load: Load, comparisons: Sequence[Comparison], args: argparse.Namespace, started: float
) -> int:
    """Run interleaved rounds; the number of rounds completed."""
    for rounds_done in range(args.rounds):
        round_started = time.perf_counter()
        for comparison in comparisons:
            sides = [
                (comparison.api, comparison.api_blocks),
                (comparison.baseline, comparison.baseline_blocks),
            ]
            if rounds_done % 2:
                sides.reverse()  # ABAB... then BABA...: drift and order effects cancel out
            for endpoint, blocks in sides:
                n = comparison.requests_per_block
                blocks.append((n, load.block(endpoint, n)))
        round_seconds = time.perf_counter() - round_started
        elapsed = time.perf_counter() - started
        if rounds_done + 1 < args.rounds and elapsed + round_seconds > args.max_seconds:
            print(f"time budget of {args.max_seconds:.0f}s reached after {rounds_done + 1} rounds")
            return rounds_done + 1
    return int(args.rounds)


def report(comparisons: Sequence[Comparison], rounds: int, target: float) -> None:
    print()
    print(f"{'comparison':<16}{'round':>6}{'order':>7}{'requests':>10}", end="")
    print(f"{'api req/s':>12}{'baseline req/s':>16}{'ratio':>8}")
    for comparison in comparisons:
        for index in range(rounds):
            (n, api_s), (_, base_s) = (
                comparison.api_blocks[index],
                comparison.baseline_blocks[index],
            )
            order = "B,A" if index % 2 else "A,B"
            print(
                f"{comparison.name:<16}{index + 1:>6}{order:>7}{n:>10}"
                f"{n / api_s:>12.1f}{n / base_s:>16.1f}{base_s / api_s:>7.2f}x"
            )
        ratios = [
            b / a
            for (_, a), (_, b) in zip(
                comparison.api_blocks, comparison.baseline_blocks, strict=True
            )
        ]
        api_rate, base_rate = rate(comparison.api_blocks), rate(comparison.baseline_blocks)
        print(
            f"{comparison.name:<16}{'all':>6}{'':>7}{comparison.requests_per_block * rounds:>10}"
            f"{api_rate:>12.1f}"
            f"{base_rate:>16.1f}{api_rate / base_rate:>7.2f}x"
            f"   (rounds {min(ratios):.2f}x..{max(ratios):.2f}x, "
            f"median {statistics.median(ratios):.2f}x)"
        )
    print()
    for comparison in comparisons:
        api_rate, base_rate = rate(comparison.api_blocks), rate(comparison.baseline_blocks)
        print(
            f"{comparison.name}: api {api_rate:.1f} req/s, baseline {base_rate:.1f} req/s, "
            f"ratio {api_rate / base_rate:.2f}x (target >= {target:.2f}x)"
        )


# --- Main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=12, help="interleaved rounds (default 12)")
    parser.add_argument(
        "--block-seconds",
        type=float,
        default=1.5,
        help="about how long one block of requests to one endpoint lasts (default 1.5)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="client connections (default 2)")
    parser.add_argument("--warmup-seconds", type=float, default=1.5)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=90,
        help="stop adding rounds once the measurement has run this long (default 90)",
    )
    parser.add_argument("--target", type=float, default=0.70)
    parser.add_argument(
        "--rate-limit",
        default=os.environ.get("BENCH_API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        help=f"API_RATE_LIMIT for the server (default {DEFAULT_RATE_LIMIT})",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    env = server_environment(args.rate_limit)
    fixture = prepare_data(env)
    org = fixture.organization_id
    auth = {"Authorization": f"Bearer {fixture.token}"}
    comparisons = [
        Comparison(
            "release_list",
            Endpoint("api", f"/api/v1/releases/?page_size={PAGE_SIZE}", auth),
            Endpoint("baseline", f"/bench/releases/?organization={org}&page_size={PAGE_SIZE}"),
        ),
        Comparison(
            "release_detail",
            Endpoint("api", f"/api/v1/releases/{fixture.detail_release_id}/", auth),
            Endpoint(
                "baseline", f"/bench/releases/{fixture.detail_release_id}/?organization={org}"
            ),
        ),
    ]
    with daphne(env, free_port()) as base_url:
        check_documents(base_url, comparisons, fixture)
        load = Load(base_url, args.concurrency)
        try:
            health = Endpoint("healthz", "/healthz")
            fetch(load.clients[0], health)
            ceiling = load.rate_for(health, 1.0)
            print(
                f"client: {args.concurrency} keep-alive connections; "
                f"/healthz answers {ceiling:.0f} req/s (the client's and server's floor)"
            )
            for comparison in comparisons:
                rates = [
                    load.rate_for(endpoint, args.warmup_seconds)
                    for endpoint in (comparison.api, comparison.baseline)
                ]
                n = round(min(rates) * args.block_seconds / args.concurrency) * args.concurrency
                comparison.requests_per_block = max(n, 4 * args.concurrency)
                print(
                    f"{comparison.name}: warm-up api {rates[0]:.0f} req/s, baseline "
                    f"{rates[1]:.0f} req/s; {comparison.requests_per_block} requests per block"
                )
            rounds = measure(load, comparisons, args, time.perf_counter())
        finally:
            load.close()
    report(comparisons, rounds, args.target)
    print(f"total {time.perf_counter() - started:.0f}s")


def main() -> int:
    args = parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    try:
        run(args)
    except DocumentsDiffer as exc:
        print(f"FAIL: the API and the baseline disagree: {exc}", file=sys.stderr)
        return 2
    except (BenchError, httpx.HTTPError, OSError) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
