"""The container entrypoint: each role's command line, and the web, worker and beat roles run
as real processes on PostgreSQL and Redis, stopped with SIGTERM as ECS and compose stop them."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import ROOT, MakeCaller, _free_port, _process_env
from enterprise_suite import entrypoint

ENTRYPOINT = [sys.executable, "-m", "enterprise_suite.entrypoint"]


# --- command lines -----------------------------------------------------------------------------


def test_web_serves_our_server_on_port_with_proxy_headers() -> None:
    command = entrypoint.command_for(["web"], {"PORT": "9123"})
    assert command[1:3] == ["-m", "enterprise_suite.server"]
    assert command[command.index("--port") + 1] == "9123"
    assert "--proxy-headers" in command
    assert command[-1] == "enterprise_suite.asgi:application"


def test_worker_takes_queues_and_concurrency_from_the_environment() -> None:
    command = entrypoint.command_for(
        ["worker", "--max-tasks-per-child=100"],
        {"CELERY_QUEUES": "default,deliveries", "CELERY_CONCURRENCY": "8"},
    )
    assert command[command.index("--queues") + 1] == "default,deliveries"
    assert command[command.index("--concurrency") + 1] == "8"
    assert command[-1] == "--max-tasks-per-child=100"
    assert entrypoint.role_environment("worker", {})["REMAP_SIGTERM"] == "SIGQUIT"


def test_beat_uses_the_database_scheduler() -> None:
    command = entrypoint.command_for(["beat"], {})
    assert "django_celery_beat.schedulers:DatabaseScheduler" in command
    assert "REMAP_SIGTERM" not in entrypoint.role_environment("beat", {})


def test_flower_listens_on_flower_port() -> None:
    assert "--port=6000" in entrypoint.command_for(["flower"], {"FLOWER_PORT": "6000"})


def test_other_words_are_manage_py_commands() -> None:
    command = entrypoint.command_for(["check", "--deploy"], {})
    assert command[1:] == [str(ROOT / "manage.py"), "check", "--deploy"]
    assert entrypoint.command_for(["shell"], {})[2] == "shell"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "usage"),
        (["--verbose"], {}, "expected a role"),
        (["web"], {"PORT": "eighty"}, "PORT must be a port number"),
    ],
)
def test_bad_command_lines_exit_2_with_a_message(
    argv: list[str], env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entrypoint.main(argv, env) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_manage_py_command_fails_clearly() -> None:
    result = subprocess.run(
        [*ENTRYPOINT, "no_such_command"],
        cwd=ROOT,
        env=_plain_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Unknown command: 'no_such_command'" in result.stderr


def _plain_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "enterprise_suite.settings"}


# --- real processes ----------------------------------------------------------------------------


class Role:
    """One entrypoint role running as a child process, its output in a log file."""

    def __init__(self, args: list[str], **env: str) -> None:
        self.log_path = Path(tempfile.mkdtemp(prefix="role-")) / "role.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*ENTRYPOINT, *args],
                cwd=ROOT,
                env=_process_env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen:\n{self.log()}")
            time.sleep(0.2)

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"did not exit within {timeout}s of SIGTERM:\n{self.log()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def roles() -> Iterator[Callable[..., Role]]:
    started: list[Role] = []

    def start(*args: str, **env: str) -> Role:
        role = Role(list(args), **env)
        started.append(role)
        return role

    yield start
    for role in started:
        role.kill()


def _files(directory: Path, prefix: str) -> int:
    return len(list(directory.glob(f"{prefix}-*")))


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_web_role_drains_websockets_and_exits_cleanly_on_sigterm(
    roles: Callable[..., Role], make_caller: MakeCaller
) -> None:
    caller = make_caller()
    port = _free_port()
    web = roles("web", PORT=str(port), WEB_BIND="127.0.0.1", WEB_DRAIN_SECONDS="5")

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    web.wait_for(healthy, "web answering /healthz")
    forwarded = httpx.get(
        f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=5
    )
    assert forwarded.status_code == 200
    with connect(
        f"ws://127.0.0.1:{port}/ws/events/",
        additional_headers={"Authorization": f"Bearer {caller.raw_token}"},
    ) as ws:
        ws.send('{"type": "ping"}')
        assert "pong" in ws.recv(timeout=10)
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "es_websocket_clients 1.0" in scraped.splitlines()
        assert web.terminate() == 0
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001  # going away: the client reconnects elsewhere
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


@pytest.mark.slow
def test_web_server_lets_a_request_in_flight_finish_on_sigterm(tmp_path: Path) -> None:
    import os
    import threading

    port = _free_port()
    marker = tmp_path / "started"
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "enterprise_suite.server"),
            *("-b", "127.0.0.1", "-p", str(port)),
            "enterprise_suite.tests.slow_asgi:application",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "SLOW_APP_MARKER": str(marker),
            "SLOW_APP_SECONDS": "2",
            "WEB_DRAIN_SECONDS": "10",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        answers: list[httpx.Response | Exception] = []

        def call() -> None:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/", timeout=30))
            except Exception as exc:  # reported by the assertion below
                answers.append(exc)

        deadline = time.monotonic() + 30
        caller = threading.Thread(target=call)
        while True:  # the server is up once it accepts a connection
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=0.2)
            except httpx.ReadTimeout:
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        marker.unlink()
        caller.start()
        while not marker.exists():
            assert time.monotonic() < deadline, "request did not start"
            time.sleep(0.05)
        server.send_signal(signal.SIGTERM)
        caller.join(timeout=30)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    [answer] = answers
    assert isinstance(answer, httpx.Response), answer
    assert (answer.status_code, answer.text) == (200, "finished")


def _worker(roles: Callable[..., Role], queue: str, **env: str) -> Role:
    worker = roles(
        "worker",
        "--include=enterprise_suite.tests.shutdown_tasks",
        CELERY_QUEUES=queue,
        CELERY_CONCURRENCY="1",
        WORKER_METRICS_PORT=str(_free_port()),
        **env,
    )
    worker.wait_for(lambda: "ready." in worker.log(), "worker ready")
    return worker


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_role_finishes_the_running_task_on_sigterm(roles: Callable[..., Role]) -> None:
    from enterprise_suite.celery import app

    app.conf.task_always_eager = False  # the autouse fixture restores it
    queue = f"shutdown-{uuid.uuid4().hex[:8]}"
    markers = Path(tempfile.mkdtemp(prefix="markers-"))
    worker = _worker(roles, queue, CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT="8")
    app.send_task("tests.hold", args=[str(markers), 2], queue=queue)
    worker.wait_for(lambda: _files(markers, "started") == 1, "task started")

    assert worker.terminate() == 0
    assert _files(markers, "finished") == 1, worker.log()
    assert _files(markers, "started") == 1


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_role_requeues_a_task_too_long_to_finish(roles: Callable[..., Role]) -> None:
    from enterprise_suite.celery import app

    app.conf.task_always_eager = False  # the autouse fixture restores it
    queue = f"shutdown-{uuid.uuid4().hex[:8]}"
    markers = Path(tempfile.mkdtemp(prefix="markers-"))
    first = _worker(roles, queue, CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT="1")
    app.send_task("tests.hold", args=[str(markers), 600], queue=queue)
    first.wait_for(lambda: _files(markers, "started") == 1, "task started")

    first.terminate()
    assert _files(markers, "finished") == 0  # cut short, not finished

    # The task went back to the broker: the next worker runs it.
    # Celery's soft shutdown can sit out its whole timeout once a task has run: keep it short.
    second = _worker(roles, queue, CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT="5")
    second.wait_for(lambda: _files(markers, "finished") == 1, "requeued task finished")
    assert _files(markers, "started") == 2
    assert second.terminate() == 0


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_beat_role_runs_the_database_scheduler_and_exits_cleanly(
    roles: Callable[..., Role],
) -> None:
    beat = roles("beat")
    # Once its schedule is loaded: "beat: Starting" comes before the database scheduler has
    # written its entries, and a SIGTERM in the middle of those writes hung beat.
    beat.wait_for(lambda: "beat_ready" in beat.log(), "beat ready")
    assert "scheduler=DatabaseScheduler" in beat.log()
    assert beat.terminate() == 0


@pytest.mark.django_db
def test_beats_signal_handler_only_asks_it_to_stop() -> None:
    """Celery's own handler saved the schedule from inside the handler: mid-setup that built
    a second database scheduler on the connection the first was using, and beat hung."""
    import signal

    from celery import beat

    from enterprise_suite.celery import app

    service = beat.Service(app=app, scheduler_cls=app.conf.beat_scheduler)
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        app.Beat().install_sync_handler(service)
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, None)  # as if it arrived while the scheduler was being set up
    finally:
        for number, previous in saved.items():
            signal.signal(number, previous)
    assert "scheduler" not in vars(service)  # no scheduler built, no query run
    assert service._is_shutdown.is_set()  # the loop ends at its next wake-up and saves then


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_beat_role_stopped_while_setting_up_exits_cleanly(roles: Callable[..., Role]) -> None:
    """SIGTERM within milliseconds of "beat: Starting", while the database scheduler sets up
    (before the fix, about one such stop in three hung beat until it was killed)."""
    for delay in (0.005, 0.01):  # the deterministic check is the test above
        beat = roles("beat")
        beat.wait_for(lambda: "beat: Starting" in beat.log(), "beat starting")  # noqa: B023
        time.sleep(delay)
        assert beat.terminate(timeout=20) == 0, beat.log()


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_role_serves_its_child_processes_metrics(
    roles: Callable[..., Role], tmp_path: Path
) -> None:
    """A worker role runs its tasks in prefork children; its main process serves their
    metrics, summed, on WORKER_METRICS_PORT (what Prometheus scrapes on ECS)."""
    from accounts.tests.factories import OrganizationFactory
    from enterprise_suite.celery import app
    from royalties.models import SalesReport
    from royalties.services.reports import sales_report_upload_path_file

    app.conf.task_always_eager = False  # the autouse fixture restores it
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    worker = roles("worker", CELERY_QUEUES=queue, CELERY_CONCURRENCY="2",
                   WORKER_METRICS_PORT=str(port))  # fmt: skip
    worker.wait_for(lambda: "ready." in worker.log(), "worker ready")
    metric = 'royalties_import_lines_total{layout="canonical",outcome="loaded"}'

    def loaded() -> float:
        for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text.splitlines():
            if line.startswith(metric):
                return float(line.split()[-1])
        return 0.0

    assert loaded() == 0.0
    reports = []
    for lines in (3, 4):
        path = tmp_path / f"report-{lines}.csv"
        path.write_text(
            "store,period,territory,isrc,upc,usage_type,quantity,gross,net,currency\n"
            + "".join(f"teststore,2026-03,DE,QZXYZ26{n:05d},,stream,1,1,1,EUR\n"
                      for n in range(lines))
        )  # fmt: skip
        report = sales_report_upload_path_file(
            organization=OrganizationFactory(), path=path, store_code="teststore", enqueue=False
        )
        app.send_task("royalties.sales_report_import", args=[str(report.pk)], queue=queue)
        reports.append(report.pk)

    worker.wait_for(
        lambda: SalesReport.objects.filter(pk__in=reports, status="imported").count() == 2,
        "both reports imported",
    )
    worker.wait_for(lambda: loaded() == 7.0, "the children's counts summed on the port")
    assert worker.terminate() == 0
