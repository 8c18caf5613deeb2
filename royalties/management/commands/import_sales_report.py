"""Import a sales report file from disk, in the foreground, with a progress bar."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from enterprise_suite.errors import ApplicationError
from royalties.choices import ReportStatus
from royalties.compressed import opened_report
from royalties.parsers import LAYOUTS
from royalties.services.reports import sales_report_import, sales_report_upload_path_file


def count_lines(path: Path) -> int:
    """The report's lines, for the bar's total (those of its text, if it is compressed)."""
    lines = 0
    limit = settings.SALES_REPORT_MAX_EXPANDED_BYTES
    with path.open("rb") as handle, opened_report(handle, max_bytes=limit) as text:
        while chunk := text.read(1024 * 1024):
            lines += chunk.count(b"\n")
    return lines


class ProgressBar:
    """A one-line bar on a terminal (or a line per update elsewhere): done/total, rate."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.stream, self.width = max(total, 1), stream, width
        self.started = time.monotonic()

    def __call__(self, done: int) -> None:
        fraction = min(done / self.total, 1.0)
        filled = int(self.width * fraction)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        text = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} "
            f"{done:,}/{self.total:,} lines {done / elapsed:,.0f}/s"
        )
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(text + end)
        self.stream.flush()

    def close(self) -> None:
        self(self.total)  # the file's every line has been read
        if self.stream.isatty():
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Import a store's sales report (any layout) into an organization, showing progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--organization", required=True, help="organization slug")
        parser.add_argument("--store", required=True, help="store code, e.g. spotify")
        parser.add_argument("--layout", choices=sorted(LAYOUTS), help="default: detected")
        parser.add_argument("--period", help="sales month YYYY-MM (default: from the lines)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        import datetime as dt

        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['organization']}'.")
        period = None
        if options["period"]:
            try:
                period = dt.datetime.strptime(options["period"], "%Y-%m").date()
            except ValueError:
                raise CommandError("--period must be YYYY-MM.") from None
        try:
            report = sales_report_upload_path_file(
                organization=organization,
                path=path,
                store_code=options["store"],
                layout=options["layout"],
                period=period,
                enqueue=False,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from None
        stream = getattr(self.stderr, "_out", sys.stderr)
        bar = None if options["no_progress"] else ProgressBar(count_lines(path), stream)
        started = time.monotonic()
        sales_report_import(report_id=report.pk, progress=bar)
        if bar is not None:
            bar.close()
        report.refresh_from_db()
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Report {report.pk}: {report.status} ({report.layout}); "
            f"{report.lines_loaded:,} lines loaded, {report.lines_bad:,} bad, "
            f"{report.lines_matched:,} matched, in {seconds:.1f} s."
        )
        for error in report.errors[:20]:
            self.stdout.write(f"  line {error['line']}: {error['reason']}")
        if report.status != ReportStatus.IMPORTED:
            raise CommandError(report.error or f"The report was {report.status}.")
