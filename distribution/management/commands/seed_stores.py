"""Seed the common stores (idempotent), pointing at local folders for the embedded profile."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from distribution.services.delivery import stores_seed_common


class Command(BaseCommand):
    help = "Create the common stores with folder transports (under STORE_DROP_ROOT)."

    def handle(self, *args: Any, **options: Any) -> None:
        for store, created in stores_seed_common():
            self.stdout.write(f"{'created' if created else 'exists'}: {store.name}")
