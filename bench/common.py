"""Infrastructure shared by the benchmark scripts in bench/.

The child-process environment, the benchmark's own PostgreSQL database and its migrations,
subprocesses logging to a temporary file and always stopped, and a web server waited for on
`/healthz`. What each script measures, and how it reports it, stays in the script.

The scripts are run as `python bench/<name>.py`, so they put the project root on `sys.path`
before importing this module as `bench.common`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/enterprise_suite"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MB = 1024 * 1024


class BenchError(Exception):
    """The server, a worker or a request failed: the scripts exit with status 1."""


class MigrationFailed(BenchError):
    """`manage.py migrate` failed on the bench database."""


# --- Environment -------------------------------------------------------------------------------


def bench_environment(
    settings_module: str, values: Mapping[str, str], *, unset: Iterable[str] = ()
) -> dict[str, str]:
    """The environment of a benchmark's child processes: this process's, without `DEBUG` (nor
    the names in `unset`), quiet logging, one connection pool per process (as in production),
    the project root on `PYTHONPATH`, then `values` on top."""
    env = dict(os.environ)
    for name in ("DEBUG", *unset):
        env.pop(name, None)
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env["LOG_LEVEL"] = "WARNING"
    env["DB_POOL"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(values)
    return env


def with_path(url: str, path: str) -> str:
    """`url` with its path replaced: another database name, another Redis index."""
    return urlunsplit(urlsplit(url)._replace(path=path))


# --- Database ----------------------------------------------------------------------------------


def postgres_target(database_url: str) -> tuple[str, dict[str, Any]]:
    """The database name in `database_url` and psycopg's connection parameters for its server."""
    parts = urlsplit(database_url)
    params = {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "user": parts.username,
        "password": parts.password,
        "connect_timeout": 5,
    }
    return parts.path.lstrip("/"), params


def create_database(name: str, params: Mapping[str, Any], *, recreate: bool = False) -> bool:
    """Create the database `name` if missing (dropping it first when `recreate`); whether it was
    created. Only a benchmark's own database (named `*_bench`) is ever touched."""
    import psycopg
    from psycopg import sql

    assert name.endswith("_bench"), name  # never drop or create anything else
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if recreate:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def migrate(env: Mapping[str, str]) -> None:
    """`manage.py migrate` in a child process with `env`; MigrationFailed with its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise MigrationFailed(f"manage.py migrate failed:\n{result.stdout}{result.stderr}")


# --- Processes ---------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of HOST that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def tail(log: IO[bytes], lines: int = 30) -> str:
    """The last `lines` lines written to `log` so far."""
    log.flush()
    log.seek(0)
    return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])


def stop_process(process: subprocess.Popen[bytes], timeout: float, *, group: bool = False) -> None:
    """Terminate `process` if it still runs and wait up to `timeout` seconds, then kill it.

    With `group` (a process started in its own session), the kill goes to its whole process
    group, and so does one more after a failure: children orphaned by a crash of their parent.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait(timeout=5)
    if group and process.returncode != 0:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Child:
    """A process started by `child_process`, and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: IO[bytes]
    launched: float  # time.time() just before it was started

    def tail(self, lines: int = 30) -> str:
        return tail(self.log, lines)


@contextmanager
def child_process(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    stop_timeout: float,
    new_session: bool = False,
) -> Iterator[Child]:
    """`command` run in the project root, stdout and stderr to a temporary file; stopped on exit
    whatever happens (see `stop_process`; `new_session` gives it its own process group)."""
    with tempfile.TemporaryFile() as log:
        launched = time.time()
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
        try:
            yield Child(process, log, launched)
        finally:
            stop_process(process, stop_timeout, group=new_session)


def server_command(port: int, application: str = "enterprise_suite.asgi:application") -> list[str]:
    """The project's web server (`enterprise_suite.server`, daphne) serving `application`."""
    return [str(BIN / "python"), "-m", "enterprise_suite.server", *daphne_args(port, application)]


def daphne_args(port: int, application: str = "enterprise_suite.asgi:application") -> list[str]:
    """Daphne's arguments: bind HOST:`port`, quiet, serve `application`."""
    return ["-b", HOST, "-p", str(port), "-v", "0", application]


@dataclass
class Server(Child):
    base_url: str = ""


@contextmanager
def web_server(
    env: Mapping[str, str],
    port: int,
    *,
    command: Sequence[str] | None = None,
    startup_timeout: float = 30,
    poll_seconds: float = 0.1,
    stop_timeout: float = 10,
) -> Iterator[Server]:
    """A web server on `port` (`server_command(port)` unless `command` is given), waited for
    until `/healthz` answers 200; stopped on exit, whatever happens. BenchError, with the end of
    its log, when it exits or does not answer within `startup_timeout` seconds."""
    base_url = f"http://{HOST}:{port}"
    with child_process(command or server_command(port), env, stop_timeout=stop_timeout) as child:
        process, log = child.process, child.log
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise BenchError(f"daphne exited with {process.returncode}:\n{tail(log)}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(
                    f"daphne did not answer /healthz in {startup_timeout:.0f}s:\n{tail(log)}"
                )
            time.sleep(poll_seconds)
        yield Server(process, log, child.launched, base_url)
