"""Seed a demo organization: users in every role, a label, artists, releases with tracks."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
import wave
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from PIL import Image
from stdnum import ean

from accounts.choices import Role
from accounts.models import Membership, Organization
from accounts.services import organization_create, token_create, user_get_or_create
from distribution import services
from distribution.choices import AssetKind, ContributorRole, ParentalWarning, ReleaseType
from distribution.models import Artist, Release
from distribution.services import Credit
from distribution.services.assets import ReceivedUpload, asset_analyse, asset_upload
from distribution.services.delivery import release_set_stores, stores_seed_common
from distribution.services.review import release_approve, release_submit

DEMO_SLUG = "demo-records"
DEMO_PASSWORD = "demo-password"
ADMIN_EMAIL = "admin@demo.example"

MEMBERS = {
    "owner@demo.example": Role.OWNER,
    "manager@demo.example": Role.MANAGER,
    "qc@demo.example": Role.QC_REVIEWER,
    "viewer@demo.example": Role.VIEWER,
}

ARTISTS = ["Aurora Vale", "The Midnight Static", "DJ Kairo", "Lena Marsh", "Oskar Fjell"]

# (title, type, primary artist, featured artist or None, track titles)
RELEASES: list[tuple[str, str, str, str | None, list[str]]] = [
    (
        "Northern Lights",
        ReleaseType.ALBUM,
        "Aurora Vale",
        None,
        ["Polar Night", "Glass Harbour", "Borealis", "Slow Thaw", "Northern Lights"],
    ),
    (
        "Static Bloom",
        ReleaseType.EP,
        "The Midnight Static",
        "Lena Marsh",
        ["Static Bloom", "Neon Rain", "Afterglow"],
    ),
    ("Kairos", ReleaseType.SINGLE, "DJ Kairo", None, ["Kairos"]),
    (
        "Fjord Sessions",
        ReleaseType.EP,
        "Oskar Fjell",
        None,
        ["Fjord I", "Fjord II", "Fjord III", "Fjord IV"],
    ),
]


def demo_upc(n: int) -> str:
    body = f"19{n:09d}"
    return body + ean.calc_check_digit(body)


def demo_isrc(n: int) -> str:
    return f"QZDEM26{n:05d}"


def _cover(hue: int) -> bytes:
    """A 3000x3000 RGB JPEG: what stores require, made on the spot."""
    image = Image.new("RGB", (3000, 3000), (hue % 256, (hue * 3) % 256, 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, dpi=(300, 300))
    return out.getvalue()


def _master(seconds: float = 2.0) -> bytes:
    """A short 16-bit 44.1 kHz stereo WAV of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(b"\0" * int(44100 * seconds) * 4)
    return out.getvalue()


def _attach(kind: str, data: bytes, name: str, **owner: Any) -> None:
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.seek(0)
        upload = ReceivedUpload(
            file=handle,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            head=data[:8192],
            filename=name,
        )
        asset = asset_upload(kind=kind, upload=upload, **owner)
    asset_analyse(asset_id=asset.pk)  # analyse now: the demo should be ready to review


class Command(BaseCommand):
    help = "Create demo data (idempotent) and print logins and a fresh API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print only the API token.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is None:
            organization = self._seed()
        owner = Membership.objects.get(organization=organization, user__email="owner@demo.example")
        _, raw = token_create(
            membership=owner,
            name=f"demo {timezone.now():%Y-%m-%d %H:%M}",
            scopes=["read", "write", "admin"],
        )
        if options["quiet"]:
            self.stdout.write(raw)
            return
        self.stdout.write(
            self.style.SUCCESS(f"Demo organization: {organization.name} ({DEMO_SLUG})")
        )
        self.stdout.write(f"Admin panel login: {ADMIN_EMAIL} / {DEMO_PASSWORD}")
        for email, role in MEMBERS.items():
            self.stdout.write(f"  {role:<12} {email} / {DEMO_PASSWORD}")
        self.stdout.write(f"API token (owner, read/write/admin): {raw}")

    @transaction.atomic
    def _seed(self) -> Organization:
        organization = organization_create(
            name="Demo Records", owner_email="owner@demo.example", slug=DEMO_SLUG
        )
        admin = user_get_or_create(
            email=ADMIN_EMAIL, password=DEMO_PASSWORD, full_name="Demo Admin"
        )
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
        Membership.objects.get_or_create(
            organization=organization, user=admin, defaults={"role": Role.ADMIN}
        )
        for email, role in MEMBERS.items():
            user = user_get_or_create(email=email, password=DEMO_PASSWORD)
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            Membership.objects.update_or_create(
                organization=organization, user=user, defaults={"role": role}
            )

        label = services.label_create(
            organization=organization,
            name="Nightfall Records",
            p_line="2026 Nightfall Records",
            c_line="2026 Nightfall Records",
        )
        artists: dict[str, Artist] = {
            name: services.artist_create(organization=organization, name=name) for name in ARTISTS
        }
        isrc_counter = 0
        releases: list[Release] = []
        street_date = timezone.localdate() + dt.timedelta(days=21)
        for index, (title, release_type, primary, featured, tracks) in enumerate(RELEASES, start=1):
            credits = [Credit(artist=artists[primary], role=ContributorRole.PRIMARY_ARTIST)]
            if featured:
                credits.append(
                    Credit(artist=artists[featured], role=ContributorRole.FEATURED_ARTIST)
                )
            release = services.release_create(
                organization=organization,
                title=title,
                release_type=release_type,
                upc=demo_upc(index),
                label=label,
                primary_genre="Electronic",
                language="en",
                release_date=street_date + dt.timedelta(days=7 * index),
                p_line=label.p_line,
                c_line=label.c_line,
                territories_include=["WW"],
                contributors=credits,
            )
            releases.append(release)
            _attach(AssetKind.ARTWORK, _cover(index * 60), "cover.jpg", release=release)
            for number, track_title in enumerate(tracks, start=1):
                isrc_counter += 1
                track = services.track_create(
                    release=release,
                    track_number=number,
                    title=track_title,
                    isrc=demo_isrc(isrc_counter),
                    duration_seconds=180 + 17 * number,
                    parental_warning=ParentalWarning.NOT_EXPLICIT,
                    language="en",
                    contributors=credits,
                )
                if title != "Kairos":  # left without audio, to show validation findings
                    _attach(AssetKind.AUDIO, _master(), f"{number:02d}.wav", track=track)
        # One release waiting in the QC queue, one already approved, the rest drafts.
        owner = Membership.objects.get(organization=organization, user__email="owner@demo.example")
        qc = Membership.objects.get(organization=organization, user__email="qc@demo.example")
        stores_seed_common()
        for release in releases:
            release_set_stores(release=release, codes=["spotify", "apple-music", "deezer"])
        release_submit(release=releases[0], actor=owner.user)
        release_submit(release=releases[3], actor=owner.user)
        release_approve(release=releases[3], actor=qc.user, note="Demo approval")
        # Money for the delivered release: last month's sales report and statements.
        from royalties.demo import royalties_demo_seed

        royalties_demo_seed(
            organization=organization, release=releases[3], artist=artists[RELEASES[3][2]]
        )
        return organization
