"""Generate (or regenerate) an accounting period's draft statements, optionally close the
period, and optionally write every statement's CSV to a folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from enterprise_suite.errors import ApplicationError
from royalties import selectors
from royalties.services.statements import period_close, statements_generate
from royalties.statement_csv import statement_csv_filename, statement_csv_rows


def month_argument(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--month must be YYYY-MM, not '{value}'.") from None


class Command(BaseCommand):
    help = (
        "Build the draft statements of an organization's accounting period (one per payee "
        "with earnings or a balance), as POST /api/v1/accounting-periods/{id}/statements/ "
        "does. --close makes them final and closes the period (later reports count in the "
        "next one); --export DIR writes each statement's CSV there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="organization slug")
        parser.add_argument("--month", required=True, help="the period, YYYY-MM")
        parser.add_argument(
            "--close", action="store_true", help="make the statements final and close the period"
        )
        parser.add_argument("--export", type=Path, help="folder to write each statement's CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['organization']}'.")
        month = month_argument(options["month"])
        period = selectors.period_of_month(organization=organization, month=month)
        if period is None:
            raise CommandError(
                f"{organization.slug} has no accounting period {month:%Y-%m}: it opens with "
                "the first sales report of that month (or POST /api/v1/accounting-periods/)."
            )
        export: Path | None = options["export"]
        if export is not None and export.exists() and not export.is_dir():
            raise CommandError(f"--export {export} is a file, not a folder.")
        try:
            if options["close"]:
                period = period_close(period=period)
            else:
                statements_generate(period=period)
        except ApplicationError as exc:  # closed already, or exchange rates missing
            raise CommandError(exc.message) from None
        statements = list(selectors.period_statements(period))
        kind = "final" if period.is_closed else "draft"
        self.stdout.write(
            f"{organization.slug} {period}: {len(statements)} {kind} statement(s)"
            + (", period closed." if options["close"] else ".")
        )
        if export is not None:
            export.mkdir(parents=True, exist_ok=True)
            for statement in statements:
                path = export / statement_csv_filename(statement)
                path.write_text("".join(statement_csv_rows(statement)), newline="")
            self.stdout.write(f"Wrote {len(statements)} CSV file(s) to {export}.")
