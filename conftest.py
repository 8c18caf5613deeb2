"""Shared fixtures: organizations, members in a role, and API clients authenticated by token."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.choices import Role
from accounts.models import ApiToken, Membership, Organization
from accounts.services import token_create
from accounts.tests.factories import MembershipFactory, OrganizationFactory

ROOT = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


@dataclass
class Caller:
    """A member of an organization with an API token and a client that sends it."""

    membership: Membership
    token: ApiToken
    raw_token: str
    client: APIClient

    @property
    def organization(self) -> Organization:
        return self.membership.organization


MakeCaller = Callable[..., Caller]


@pytest.fixture
def make_caller(db: None) -> MakeCaller:
    def make(
        organization: Organization | None = None,
        role: str = Role.OWNER,
        scopes: tuple[str, ...] = ("read", "write", "admin"),
    ) -> Caller:
        membership = MembershipFactory(
            organization=organization or OrganizationFactory(), role=role
        )
        token, raw = token_create(membership=membership, name="test", scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return Caller(membership=membership, token=token, raw_token=raw, client=client)

    return make


@pytest.fixture(autouse=True)
def _isolated_media_and_eager_tasks(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Each test stores files in its own folder and runs tasks in-process when enqueued.

    Tests that need the real worker use the `celery_worker_process` fixture, which turns
    eager execution off again.
    """
    from enterprise_suite.celery import app

    settings.MEDIA_ROOT = str(tmp_path / "media")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def ddex_schema_dir() -> Path:
    """The official ERN 4.3 schema: a missing one fails under CI and skips elsewhere."""
    from django.conf import settings

    directory = Path(settings.DDEX_SCHEMA_DIR)
    if not (directory / "release-notification.xsd").is_file():
        message = (
            f"DDEX ERN 4.3 schema not found in {directory}: set DDEX_SCHEMA_DIR to the directory "
            "holding release-notification.xsd and allowed-value-sets.xsd."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return directory


@pytest.fixture
def owner(make_caller: MakeCaller) -> Caller:
    return make_caller(role=Role.OWNER)


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


# --- Real processes: a Celery worker and a daphne server on the test database -------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_env(**extra: str) -> dict[str, str]:
    """The environment for a child process that must see this test run's database."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DB_POOL": "1",  # child servers run as in production, on a connection pool
        "DJANGO_SETTINGS_MODULE": "enterprise_suite.settings",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@dataclass
class RunningProcess:
    process: subprocess.Popen[bytes]
    log_path: str
    port: int = 0
    queue: str = ""

    def log(self) -> str:
        with open(self.log_path, errors="replace") as handle:
            return handle.read()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except Exception:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[RunningProcess]:
    """A real Celery worker on the broker and the test database."""
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (services profile)")
    from enterprise_suite.celery import app

    # The worker consumes the queue this process sends to (Celery resolves routes once per
    # process, so a per-test queue would not stick); stale messages are purged first.
    queue = app.conf.task_default_queue
    app.control.purge()
    app.conf.task_always_eager = False
    log_path = Path(tempfile.mkdtemp(prefix="celery-")) / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "enterprise_suite",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=_process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningProcess(process=process, log_path=str(log_path), queue=queue)
    deadline = time.monotonic() + 60
    while "ready." not in running.log():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"Celery worker did not start:\n{running.log()}")
        time.sleep(0.2)
    yield running
    _stop(process)


@pytest.fixture
def daphne_server(transactional_db: None) -> Iterator[RunningProcess]:
    """A real daphne serving the ASGI app (HTTP and WebSocket) on the test database."""
    import httpx

    port = _free_port()
    log_path = Path(tempfile.mkdtemp(prefix="daphne-")) / "daphne.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "enterprise_suite.server",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "enterprise_suite.asgi:application",
            ],
            cwd=ROOT,
            env=_process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningProcess(process=process, log_path=str(log_path), port=port)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"daphne did not start:\n{running.log()}")
        time.sleep(0.2)
    yield running
    _stop(process)
