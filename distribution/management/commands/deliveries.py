"""Operator commands for deliveries: send, redeliver (update), take down, retry, history."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from distribution.choices import DeliveryKind, ReleaseStatus
from distribution.models import Delivery, Release, Store
from distribution.services.delivery import deliveries_create, delivery_retry, release_takedown
from enterprise_suite.errors import ApplicationError

SENDABLE = (ReleaseStatus.APPROVED, ReleaseStatus.DELIVERING, ReleaseStatus.DELIVERED)


def _release(ref: str) -> Release:
    release = Release.objects.filter(upc=ref).first()
    if release is None:
        try:
            release = Release.objects.filter(pk=uuid.UUID(ref)).first()
        except ValueError:  # neither a UPC nor an id
            release = None
    if release is None:
        raise CommandError(f"No release with UPC or id '{ref}'.")
    return release


class Command(BaseCommand):
    help = "Send, redeliver, take down or retry deliveries, and show a release's delivery history."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("send", "deliver an approved release (insert) to stores"),
            ("redeliver", "send the release's current state again (update) to stores"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("release", help="UPC or release id")
            p.add_argument(
                "--store",
                action="append",
                help="store code (repeatable); default: the release's stores",
            )
        p = sub.add_parser("takedown", help="withdraw the release from every store it went to")
        p.add_argument("release", help="UPC or release id")
        p = sub.add_parser("retry", help="retry a failed or rejected delivery")
        p.add_argument("delivery", help="delivery id")
        p = sub.add_parser("history", help="show a release's deliveries and attempts")
        p.add_argument("release", help="UPC or release id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _stores(self, options: dict[str, Any]) -> list[Store] | None:
        codes = options.get("store")
        if not codes:
            return None
        stores = list(Store.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {s.code for s in stores})
        if missing:
            raise CommandError(f"Unknown stores: {', '.join(missing)}.")
        return stores

    def _send_kind(self, options: dict[str, Any], kind: str) -> None:
        release = _release(options["release"])
        if release.status not in SENDABLE:
            raise CommandError(
                f"The release is {release.status}; only approved or delivered releases are sent."
            )
        with transaction.atomic():
            created = deliveries_create(release=release, kind=kind, stores=self._stores(options))
        if not created:
            raise CommandError(
                "No stores: choose the release's stores first (API: PUT releases/{id}/stores/)."
            )
        for delivery in created:
            self.stdout.write(f"queued {kind} to {delivery.store.code}: delivery {delivery.pk}")

    def _send(self, options: dict[str, Any]) -> None:
        self._send_kind(options, DeliveryKind.INSERT)

    def _redeliver(self, options: dict[str, Any]) -> None:
        self._send_kind(options, DeliveryKind.UPDATE)

    def _takedown(self, options: dict[str, Any]) -> None:
        for delivery in release_takedown(release=_release(options["release"])):
            self.stdout.write(f"queued takedown to {delivery.store.code}: delivery {delivery.pk}")

    def _retry(self, options: dict[str, Any]) -> None:
        delivery = Delivery.objects.filter(pk=options["delivery"]).first()
        if delivery is None:
            raise CommandError(f"No delivery {options['delivery']}.")
        retried = delivery_retry(delivery=delivery)
        self.stdout.write(f"retrying delivery {retried.pk} to {retried.store.code}")

    def _history(self, options: dict[str, Any]) -> None:
        release = _release(options["release"])
        self.stdout.write(f"{release.title} (UPC {release.upc or '-'}) is {release.status}")
        deliveries = (
            Delivery.objects.filter(release=release)
            .select_related("store")
            .prefetch_related("attempts")
        )
        for delivery in deliveries.order_by("created_at"):
            self.stdout.write(
                f"  {delivery.created_at:%Y-%m-%d %H:%M:%S} {delivery.kind:<8} "
                f"{delivery.store.code:<14} {delivery.status:<12} {delivery.message_id}"
            )
            for attempt in delivery.attempts.all():
                ended = f"{attempt.finished_at:%H:%M:%S}" if attempt.finished_at else "…"
                outcome = attempt.outcome or "running"
                self.stdout.write(
                    f"      attempt {attempt.started_at:%H:%M:%S}-{ended} {outcome} "
                    f"{attempt.error[:200]}"
                )
            if delivery.store_message:
                self.stdout.write(f"      store says: {delivery.store_message}")
