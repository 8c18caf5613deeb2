"""The container's one entry point: `python -m enterprise_suite.entrypoint ROLE [ARGS...]`.

Roles (the same image runs them all; ECS task definitions and compose services differ only in
the command):
- `web`: the ASGI server (`enterprise_suite.server`, daphne with streamed request bodies) bound
  to `$PORT`, trusting the load balancer's X-Forwarded-* headers.
- `worker`: a Celery worker on `$CELERY_QUEUES` with `$CELERY_CONCURRENCY` processes.
- `beat`: Celery beat with django-celery-beat's database scheduler. Run exactly one.
- `flower`: the Celery monitoring UI on `$FLOWER_PORT`.
- `migrate`: apply migrations, then write the scheduled jobs (`sync_schedules`). One-off.
- `shell`: Django's shell.
- anything else: a `manage.py` command with its arguments (`check --deploy`, `seed_demo`, ...).

Long-running roles replace this process (`exec`), so SIGTERM reaches the server itself: web
stops accepting, closes WebSockets with 1001 and lets requests in flight finish; a worker gives
running tasks `CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT` seconds, then hands the rest back to the
broker (tasks are acknowledged late), so a task is finished or requeued, never lost.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CELERY_APP = "enterprise_suite"
ROLES = ("web", "worker", "beat", "flower", "migrate", "shell")
USAGE = (
    "usage: entrypoint ROLE [ARGS...]\n"
    "  ROLE is web | worker | beat | flower | migrate | shell | any manage.py command"
)


class UsageError(Exception):
    """The command line names no role, or a role got arguments it cannot take."""


def _python() -> str:
    return sys.executable or "python"


def _manage(*args: str) -> list[str]:
    return [_python(), str(ROOT / "manage.py"), *args]


def web_command(environ: Mapping[str, str], extra: Sequence[str]) -> list[str]:
    port = environ.get("PORT", "8000")
    if not port.isdigit():
        raise UsageError(f"PORT must be a port number, not {port!r}.")
    return [
        _python(),
        "-m",
        "enterprise_suite.server",
        "--bind",
        environ.get("WEB_BIND", "0.0.0.0"),  # noqa: S104 - a container listens on all interfaces
        "--port",
        port,
        # Client address and scheme from the ALB's X-Forwarded-For / -Proto.
        "--proxy-headers",
        # WebSocket keep-alive pings, well inside the ALB's idle timeout.
        "--ping-interval",
        environ.get("WEB_WS_PING_INTERVAL", "20"),
        "--ping-timeout",
        environ.get("WEB_WS_PING_TIMEOUT", "30"),
        "--application-close-timeout",
        environ.get("WEB_APPLICATION_CLOSE_TIMEOUT", "10"),
        # Requests are logged as JSON by the application; daphne's own access log is opt-in.
        *(["--access-log", environ["WEB_ACCESS_LOG"]] if environ.get("WEB_ACCESS_LOG") else []),
        *extra,
        "enterprise_suite.asgi:application",
    ]


def worker_command(environ: Mapping[str, str], extra: Sequence[str]) -> list[str]:
    return [
        _python(),
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "worker",
        "--queues",
        environ.get("CELERY_QUEUES", environ.get("CELERY_DEFAULT_QUEUE", "default")),
        "--concurrency",
        environ.get("CELERY_CONCURRENCY", "2"),
        "--pool",
        environ.get("CELERY_POOL", "prefork"),
        "--loglevel",
        environ.get("LOG_LEVEL", "INFO"),
        "--hostname",
        environ.get("CELERY_HOSTNAME", "worker@%h"),
        # Gossip and mingle chatter between workers buys nothing on ECS and slows startup.
        "--without-gossip",
        "--without-mingle",
        *extra,
    ]


def beat_command(environ: Mapping[str, str], extra: Sequence[str]) -> list[str]:
    return [
        _python(),
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "beat",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--loglevel",
        environ.get("LOG_LEVEL", "INFO"),
        # No pid file: the image's file system is read-only and a stale one blocks a restart.
        "--pidfile=",
        *extra,
    ]


def flower_command(environ: Mapping[str, str], extra: Sequence[str]) -> list[str]:
    # Flower reads FLOWER_BASIC_AUTH and its other FLOWER_* settings from the environment.
    return [
        _python(),
        "-m",
        "celery",
        "-A",
        CELERY_APP,
        "flower",
        f"--port={environ.get('FLOWER_PORT', '5555')}",
        f"--address={environ.get('FLOWER_ADDRESS', '0.0.0.0')}",  # noqa: S104
        *extra,
    ]


def role_environment(role: str, environ: Mapping[str, str]) -> dict[str, str]:
    env = dict(environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "enterprise_suite.settings")
    if role == "worker":
        # SIGTERM starts Celery's soft shutdown (finish within the timeout, then requeue)
        # instead of a warm shutdown that waits for every task however long it runs.
        env.setdefault("REMAP_SIGTERM", "SIGQUIT")
        # Prefork children write their metrics to files the main process serves together.
        env.setdefault("WORKER_METRICS_PORT", "9100")
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            import tempfile

            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")
    return env


def command_for(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The command line a role runs (migrate is two commands and is handled by `main`)."""
    if not argv:
        raise UsageError("no role given")
    role, extra = argv[0], list(argv[1:])
    builders = {
        "web": web_command,
        "worker": worker_command,
        "beat": beat_command,
        "flower": flower_command,
    }
    if role in builders:
        return builders[role](environ, extra)
    if role == "shell":
        return _manage("shell", *extra)
    if role == "migrate":
        raise UsageError("migrate runs two commands; use main()")
    if role.startswith("-"):
        raise UsageError(f"expected a role, got the option {role!r}")
    return _manage(role, *extra)


def migrate(environ: Mapping[str, str], extra: Sequence[str]) -> int:
    import subprocess

    env = role_environment("migrate", environ)
    for command in (_manage("migrate", "--noinput", *extra), _manage("sync_schedules")):
        code = subprocess.call(command, env=env, cwd=ROOT)  # noqa: S603 - our own commands
        if code:
            return code
    return 0


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if environ is None else environ)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE, file=sys.stderr if not args else sys.stdout)
        return 2 if not args else 0
    try:
        if args[0] == "migrate":
            return migrate(env, args[1:])
        command = command_for(args, env)
    except UsageError as exc:
        print(f"entrypoint: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    # Replace this process, so the role's own signal handling gets SIGTERM directly.
    os.execvpe(command[0], command, role_environment(args[0], env))  # noqa: S606
    return 0  # pragma: no cover - execvpe does not return


if __name__ == "__main__":
    sys.exit(main())
