"""Load test of the running stack: web, worker and beat started through the container
entrypoint's roles on PostgreSQL and Redis, driven by locust (bench/locust/locustfile.py).

For each user count (default 50 and 200) it runs the realistic mix, then the baseline (the same
users on `/healthz`: server, proxying and load generator without the application's work), and
prints requests per second, p50/p95/p99 latency and errors per request type, plus the mix's
p95 as a ratio of the baseline's. Everything runs on this machine (load generator included).

    python bench/locust/run.py --users 50 200 --seconds 45

Uses its own database (`LOAD_DATABASE_NAME`, default enterprise_suite_load_bench) and Redis
index (`LOAD_REDIS_DB`, default 8): development data is never touched.
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BIN,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    BenchError,
    Child,
    child_process,
    create_database,
    free_port,
    postgres_target,
    web_server,
    with_path,
)

ENTRYPOINT = [sys.executable, "-m", "enterprise_suite.entrypoint"]
SUBMITTABLE_PER_RUN = 300  # each mix run submits releases no earlier run has submitted


def environment() -> dict[str, str]:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    name = os.environ.get("LOAD_DATABASE_NAME", "enterprise_suite_load_bench")
    redis_db = os.environ.get("LOAD_REDIS_DB", "8")
    if redis_db in {"0", "1", "2"}:
        raise BenchError("LOAD_REDIS_DB must not be a development index (0, 1, 2).")
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "enterprise_suite.settings",
            "DATABASE_URL": with_path(database_url, f"/{name}"),
            "REDIS_URL": with_path(redis_url, f"/{redis_db}"),
            "DB_POOL": "1",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            # Production settings, on plain HTTP on localhost.
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "API_RATE_LIMIT": "1000000/min",  # one token drives every simulated user
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def prepare(env: dict[str, str], runs: int) -> dict[str, str]:
    """Create, migrate (entrypoint `migrate` role) and seed the load database; the locust env."""
    import subprocess

    name, params = postgres_target(env["DATABASE_URL"])
    create_database(name, params, recreate=True)
    result = subprocess.run(
        [*ENTRYPOINT, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise BenchError(f"entrypoint migrate failed:\n{result.stdout}{result.stderr}")
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")})
    import django

    django.setup()
    from accounts.choices import Role
    from accounts.models import Membership
    from accounts.services import token_create
    from bench import seed
    from distribution.models import Release
    from distribution.tests.workflow_fixtures import submittable_release

    seed.seed()
    organization_id = seed.fixture().organization_id
    owner = Membership.objects.get(organization_id=organization_id, role=Role.OWNER)
    _, token = token_create(membership=owner, name="load", scopes=["read", "write", "admin"])
    reads = [str(pk) for pk in Release.objects.values_list("pk", flat=True)]
    submittable = [
        str(submittable_release(owner.organization, tracks=2).pk)
        for _ in range(SUBMITTABLE_PER_RUN * runs)
    ]
    return {
        "LOAD_TOKEN": token,
        "LOAD_RELEASES": ",".join(reads),
        "LOAD_SUBMITTABLE": ",".join(submittable),
    }


@contextmanager
def stack(env: dict[str, str]) -> Iterator[str]:
    """web, worker and beat through the entrypoint; the web's base URL."""
    port = free_port()
    with ExitStack() as stack:
        worker: Child = stack.enter_context(
            child_process(
                [*ENTRYPOINT, "worker"],
                {**env, "CELERY_CONCURRENCY": "2", "WORKER_METRICS_PORT": str(free_port())},
                stop_timeout=30,
            )
        )
        beat: Child = stack.enter_context(
            child_process([*ENTRYPOINT, "beat"], env, stop_timeout=15)
        )
        server = stack.enter_context(
            web_server(
                {**env, "PORT": str(port), "WEB_BIND": "127.0.0.1"},
                port,
                command=[*ENTRYPOINT, "web"],
                startup_timeout=60,
                stop_timeout=30,
            )
        )
        for child, role in ((worker, "worker"), (beat, "beat")):
            if child.process.poll() is not None:
                raise BenchError(f"{role} exited:\n{child.tail()}")
        yield server.base_url
        for child, role in ((worker, "worker"), (beat, "beat")):
            if child.process.poll() is not None:
                raise BenchError(f"{role} died during the run:\n{child.tail()}")


def locust(
    base_url: str, users: int, seconds: int, env: dict[str, str], baseline: bool
) -> list[dict[str, str]]:
    import subprocess

    prefix = Path(tempfile.mkdtemp(prefix="locust-")) / "run"
    command = [
        str(BIN / "locust"),
        "-f",
        str(Path(__file__).with_name("locustfile.py")),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(users // 10, 1)),
        "--run-time",
        f"{seconds}s",
        "--host",
        base_url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, "LOAD_BASELINE": "1" if baseline else "0"},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    stats = Path(f"{prefix}_stats.csv")
    if result.returncode or not stats.exists():
        raise BenchError(f"locust failed ({result.returncode}):\n{result.stderr[-3000:]}")
    with stats.open() as handle:
        return list(csv.DictReader(handle))


HEADER = (
    f"  {'request':<26} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'count':>8} {'errors':>7}"
)


def _row(label: str, row: dict[str, str]) -> str:
    return (
        f"  {label:<26} {float(row['Requests/s']):>8.1f} {row['50%']:>7} {row['95%']:>7} "
        f"{row['99%']:>7} {row['Request Count']:>8} {row['Failure Count']:>7}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=int, default=45)
    args = parser.parse_args()
    env = environment()
    print("preparing the load database (migrate role, seed)...", flush=True)
    started = time.monotonic()
    locust_env = {**env, **prepare(env, runs=len(args.users))}
    pool = locust_env.pop("LOAD_SUBMITTABLE").split(",")
    print(f"  ready in {time.monotonic() - started:.0f}s", flush=True)
    with stack(env) as base_url:
        for run, users in enumerate(args.users):
            own = pool[run * SUBMITTABLE_PER_RUN : (run + 1) * SUBMITTABLE_PER_RUN]
            run_env = {**locust_env, "LOAD_SUBMITTABLE": ",".join(own)}
            mix = locust(base_url, users, args.seconds, run_env, baseline=False)
            base = locust(base_url, users, max(args.seconds // 2, 15), locust_env, baseline=True)
            print(f"\n{users} users, {args.seconds}s mix (latency in ms)")
            print(HEADER)
            for row in mix:
                print(_row(f"{row['Type']} {row['Name']}"[:26], row))
            [healthz] = [r for r in base if r["Name"] == "baseline /healthz"]
            print(_row("baseline GET /healthz", healthz))
            http = [r for r in mix if r["Type"] in {"GET", "POST"}]
            worst_p95 = max(float(r["95%"]) for r in http)
            ratio = worst_p95 / max(float(healthz["95%"]), 1.0)
            print(f"  slowest HTTP p95 / baseline p95: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
