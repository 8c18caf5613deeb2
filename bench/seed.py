"""Deterministic benchmark data: one organization, 60 releases of 10 tracks, with credits.

Needs Django set up with `bench.settings`. Identifiers (UPCs, ISRCs), titles and credits are the
same on every seed; only the UUIDs and timestamps differ.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction
from stdnum import ean

from accounts.choices import Role, Scope
from accounts.models import ApiToken, Membership, Organization
from accounts.services import organization_create, token_create
from distribution import services
from distribution.choices import ContributorRole, ParentalWarning, ReleaseType
from distribution.models import Release, ReleaseContributor, Track, TrackContributor
from distribution.services import Credit

SEED_VERSION = 1
ORGANIZATION_SLUG = "bench-records"
ORGANIZATION_NAME = f"Bench Records (seed v{SEED_VERSION})"
OWNER_EMAIL = "owner@bench.example"
TOKEN_NAME = "bench"  # noqa: S105  a label, not a secret

RELEASES = 60
TRACKS_PER_RELEASE = 10
ARTISTS = [
    "Ada Lumen",
    "Bruno Kestrel",
    "Cleo Varga",
    "Dmitri Solace",
    "Esme Holloway",
    "Farid Noor",
    "Greta Ilves",
    "Hugo Marr",
]
RELEASE_TYPES = [ReleaseType.ALBUM, ReleaseType.EP, ReleaseType.COMPILATION]
TERRITORIES: list[tuple[list[str], list[str]]] = [
    (["WW"], []),
    (["WW"], ["US", "CA"]),
    (["DE", "AT", "CH"], []),
]
TRACK_ROLES = [ContributorRole.PRIMARY_ARTIST, ContributorRole.COMPOSER, ContributorRole.PRODUCER]
FIRST_STREET_DATE = dt.date(2026, 3, 6)


@dataclass(frozen=True)
class Fixture:
    organization_id: uuid.UUID
    token: str
    detail_release_id: uuid.UUID
    releases: int


def bench_upc(n: int) -> str:
    body = f"29{n:09d}"
    return body + ean.calc_check_digit(body)


def bench_isrc(n: int) -> str:
    return f"QZBEN26{n:05d}"


def _expected_counts() -> dict[str, int]:
    featured = sum(1 for n in range(1, RELEASES + 1) if n % 2 == 0)
    return {
        "releases": RELEASES,
        "tracks": RELEASES * TRACKS_PER_RELEASE,
        "release_credits": RELEASES + featured,
        "track_credits": RELEASES * TRACKS_PER_RELEASE * len(TRACK_ROLES),
        "distinct_created_at": RELEASES,
    }


def seed_is_current() -> bool:
    """The bench organization exists, from this seed version, with every row in place."""
    organization = Organization.objects.filter(
        slug=ORGANIZATION_SLUG, name=ORGANIZATION_NAME
    ).first()
    if organization is None:
        return False
    releases = Release.objects.filter(organization=organization)
    counts = {
        "releases": releases.count(),
        "tracks": Track.objects.filter(organization=organization).count(),
        "release_credits": ReleaseContributor.objects.filter(release__in=releases).count(),
        "track_credits": TrackContributor.objects.filter(track__organization=organization).count(),
        # The API pages by -created_at alone: ties would make the page order ambiguous.
        "distinct_created_at": releases.values("created_at").distinct().count(),
    }
    return counts == _expected_counts()


@transaction.atomic
def seed() -> None:
    """Create the bench organization. Expects an empty (freshly created) database."""
    organization = organization_create(
        name=ORGANIZATION_NAME, owner_email=OWNER_EMAIL, slug=ORGANIZATION_SLUG
    )
    label = services.label_create(
        organization=organization,
        name="Bench Label",
        p_line="2026 Bench Label",
        c_line="2026 Bench Label",
    )
    artists = [services.artist_create(organization=organization, name=name) for name in ARTISTS]
    isrc_counter = 0
    for n in range(1, RELEASES + 1):
        primary = artists[n % len(artists)]
        credits = [Credit(artist=primary, role=ContributorRole.PRIMARY_ARTIST, sequence=1)]
        if n % 2 == 0:
            featured = artists[(n + 3) % len(artists)]
            credits.append(
                Credit(artist=featured, role=ContributorRole.FEATURED_ARTIST, sequence=2)
            )
        include, exclude = TERRITORIES[n % len(TERRITORIES)]
        street_date = FIRST_STREET_DATE + dt.timedelta(days=7 * n)
        release = services.release_create(
            organization=organization,
            title=f"Bench Release {n:03d}",
            version="Deluxe Edition" if n % 4 == 0 else "",
            release_type=RELEASE_TYPES[n % len(RELEASE_TYPES)],
            upc=bench_upc(n),
            label=label if n % 3 else None,
            primary_genre="Electronic" if n % 2 else "Jazz",
            language="en" if n % 5 else "de",
            parental_warning=ParentalWarning.EXPLICIT
            if n % 7 == 0
            else ParentalWarning.NOT_EXPLICIT,
            release_date=street_date,
            original_release_date=street_date - dt.timedelta(days=3650) if n % 6 == 0 else None,
            p_line=f"2026 Bench Label ({n})",
            c_line=f"2026 Bench Label ({n})",
            territories_include=include,
            territories_exclude=exclude,
            contributors=credits,
        )
        for position in range(1, TRACKS_PER_RELEASE + 1):
            isrc_counter += 1
            # Every tenth release is a double album: tracks 6-10 are disc 2, 1-5.
            two_discs = n % 10 == 0
            disc = 2 if two_discs and position > 5 else 1
            track_credits = [
                Credit(artist=artists[(n + position + k) % len(artists)], role=role, sequence=k)
                for k, role in enumerate(TRACK_ROLES, start=1)
            ]
            services.track_create(
                release=release,
                disc_number=disc,
                track_number=position - 5 if disc == 2 else position,
                title=f"Track {n:03d}-{position:02d}",
                version="Radio Edit" if position == 3 else "",
                isrc=bench_isrc(isrc_counter),
                duration_seconds=150 + (n * 37 + position * 11) % 240,
                parental_warning=ParentalWarning.NOT_EXPLICIT,
                language="en",
                preview_start_seconds=30 if position % 2 else None,
                contributors=track_credits,
            )


def fixture() -> Fixture:
    """A fresh read token for the bench organization (older bench tokens are deleted)."""
    organization = Organization.objects.get(slug=ORGANIZATION_SLUG)
    owner = Membership.objects.get(organization=organization, role=Role.OWNER)
    ApiToken.objects.filter(membership=owner, name=TOKEN_NAME).delete()
    _, raw = token_create(membership=owner, name=TOKEN_NAME, scopes=[Scope.READ])
    # A release from the middle of the page, with two credits, as the detail benchmark's subject.
    detail = Release.objects.get(organization=organization, upc=bench_upc(RELEASES // 2))
    return Fixture(
        organization_id=organization.pk,
        token=raw,
        detail_release_id=detail.pk,
        releases=RELEASES,
    )
