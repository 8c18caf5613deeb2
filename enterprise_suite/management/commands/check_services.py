"""Say whether PostgreSQL, Redis and the broker are reachable (exit 1 if any is not)."""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from psycopg import sql

from enterprise_suite.health import READINESS_CHECKS


def _create_missing_database() -> None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return
    params: dict[str, Any] = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "connect_timeout": 3,
    }
    try:
        psycopg.connect(dbname=db["NAME"], **params).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            return
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


class Command(BaseCommand):
    help = "Check that the database, Redis and the Celery broker answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--create-database", action="store_true", help="Create the database if missing."
        )
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["create_database"]:
            # A failure here is reported by the database check below.
            with contextlib.suppress(psycopg.OperationalError):
                _create_missing_database()
        failed = []
        for name, check in READINESS_CHECKS.items():
            try:
                result = check()
            except Exception as exc:  # report every failure, not just the first
                result = f"unreachable ({exc.__class__.__name__}: {exc})"
                failed.append(name)
            if not options["quiet"]:
                self.stdout.write(f"{name}: {result}")
        if failed:
            raise CommandError(f"Not reachable: {', '.join(failed)}")
