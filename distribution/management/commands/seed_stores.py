"""Seed the common stores (idempotent), pointing at local folders for the embedded profile."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from distribution.choices import TransportKind
from distribution.models import Store

# Demo DDEX party ids: replace them with each store's real DPID from its onboarding pack.
COMMON_STORES = [
    ("spotify", "Spotify", "PADPIDA0000000001S"),
    ("apple-music", "Apple Music", "PADPIDA0000000002A"),
    ("amazon-music", "Amazon Music", "PADPIDA0000000003M"),
    ("youtube-music", "YouTube Music", "PADPIDA0000000004Y"),
    ("deezer", "Deezer", "PADPIDA0000000005D"),
    ("tidal", "TIDAL", "PADPIDA0000000006T"),
    ("tiktok", "TikTok", "PADPIDA0000000007K"),
]


class Command(BaseCommand):
    help = "Create the common stores with folder transports (under STORE_DROP_ROOT)."

    def handle(self, *args: Any, **options: Any) -> None:
        for code, name, dpid in COMMON_STORES:
            _, created = Store.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "dpid": dpid,
                    "transport": TransportKind.FILESYSTEM,
                    "transport_settings": {"root": code},
                },
            )
            self.stdout.write(f"{'created' if created else 'exists'}: {name}")
