"""Load monthly exchange rates from a CSV file (currency,month,rate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from enterprise_suite.errors import ApplicationError
from royalties.services.money import exchange_rates_load_csv


class Command(BaseCommand):
    help = (
        "Load exchange rates into an organization's currency from CSV with the header "
        "currency,month,rate (month YYYY-MM; rate = units of the organization's currency per "
        "unit). All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--organization", required=True, help="organization slug")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['organization']}'.")
        try:
            with options["path"].open(newline="") as stream:
                rates = exchange_rates_load_csv(organization=organization, stream=stream)
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['path']}") from None
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}".strip()) from None
        self.stdout.write(
            f"Loaded {len(rates)} exchange rates into {organization.default_currency}."
        )
