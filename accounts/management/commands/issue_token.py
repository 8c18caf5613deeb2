"""Issue an API token for a member of an organization."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Membership
from accounts.services import token_create
from enterprise_suite.errors import ApplicationError


class Command(BaseCommand):
    help = "Issue an API token for a member; the secret is printed once and never stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The member's email address.")
        parser.add_argument("--organization", required=True, help="Organization slug.")
        parser.add_argument("--name", default="cli", help="A label to tell tokens apart.")
        parser.add_argument(
            "--scopes", default="read,write", help="Comma-separated: read, write, admin."
        )
        parser.add_argument("--expires-in-days", type=int, help="Expire after this many days.")
        parser.add_argument("--quiet", action="store_true", help="Print only the token.")

    def handle(self, *args: Any, **options: Any) -> None:
        membership = (
            Membership.objects.select_related("organization", "user")
            .filter(
                user__email__iexact=options["email"], organization__slug=options["organization"]
            )
            .first()
        )
        if membership is None:
            raise CommandError(
                f"{options['email']} is not a member of organization '{options['organization']}'."
            )
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days must be a positive number of days.")
        try:
            token, raw = token_create(
                membership=membership,
                name=options["name"],
                scopes=[s.strip() for s in options["scopes"].split(",") if s.strip()],
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if options["quiet"]:
            self.stdout.write(raw)
            return
        self.stdout.write(
            f"Token '{token.name}' for {membership.user.email} in {membership.organization.name} "
            f"(role {membership.role}, scopes {', '.join(token.scopes)}). "
            "Store it now, it is not shown again:"
        )
        self.stdout.write(raw)
