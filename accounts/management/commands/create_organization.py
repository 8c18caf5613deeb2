"""Create an organization (a label or distributor) with its first owner."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import organization_create
from enterprise_suite.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an organization with an owner (the owner's user is created if needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Organization name, e.g. 'Nightfall Records'.")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="Sets the owner's password (admin login).")
        parser.add_argument("--slug", help="URL-safe identifier; derived from the name by default.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = organization_create(
                name=options["name"],
                owner_email=options["owner_email"],
                owner_password=options["owner_password"],
                slug=options["slug"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization '{organization.name}' (slug {organization.slug}, "
                f"id {organization.pk}) owned by {options['owner_email']}."
            )
        )
