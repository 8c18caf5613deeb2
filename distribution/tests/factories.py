from __future__ import annotations

import factory
from factory.django import DjangoModelFactory
from stdnum import ean

from accounts.tests.factories import OrganizationFactory
from distribution.choices import ContributorRole, ReleaseType
from distribution.models import Artist, Label, Release, ReleaseContributor, Track, TrackContributor


def valid_upc(n: int) -> str:
    body = f"88{n:09d}"
    return body + ean.calc_check_digit(body)


def valid_isrc(n: int) -> str:
    return f"GBTST26{n:05d}"


class LabelFactory(DjangoModelFactory[Label]):
    class Meta:
        model = Label

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Imprint {n}")
    p_line = "2026 Test Imprint"
    c_line = "2026 Test Imprint"


class ArtistFactory(DjangoModelFactory[Artist]):
    class Meta:
        model = Artist

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Artist {n}")


class ReleaseFactory(DjangoModelFactory[Release]):
    class Meta:
        model = Release

    organization = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Release {n}")
    release_type = ReleaseType.ALBUM
    upc = factory.Sequence(valid_upc)
    label = factory.SubFactory(LabelFactory, organization=factory.SelfAttribute("..organization"))
    territories_include = factory.LazyFunction(lambda: ["WW"])


class TrackFactory(DjangoModelFactory[Track]):
    class Meta:
        model = Track

    release = factory.SubFactory(ReleaseFactory)
    organization = factory.SelfAttribute("release.organization")
    track_number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Track {n}")
    isrc = factory.Sequence(valid_isrc)
    duration_seconds = 200


class ReleaseContributorFactory(DjangoModelFactory[ReleaseContributor]):
    class Meta:
        model = ReleaseContributor

    release = factory.SubFactory(ReleaseFactory)
    artist = factory.SubFactory(
        ArtistFactory, organization=factory.SelfAttribute("..release.organization")
    )
    role = ContributorRole.PRIMARY_ARTIST


class TrackContributorFactory(DjangoModelFactory[TrackContributor]):
    class Meta:
        model = TrackContributor

    track = factory.SubFactory(TrackFactory)
    artist = factory.SubFactory(
        ArtistFactory, organization=factory.SelfAttribute("..track.organization")
    )
    role = ContributorRole.PRIMARY_ARTIST


def release_with_tracks(organization, tracks: int = 3, credits: int = 2) -> Release:  # type: ignore[no-untyped-def]
    """A release with credited artists on the release and on each track."""
    release = ReleaseFactory(organization=organization)
    artists = [ArtistFactory(organization=organization) for _ in range(credits)]
    for seq, artist in enumerate(artists, start=1):
        ReleaseContributorFactory(release=release, artist=artist, sequence=seq)
    for number in range(1, tracks + 1):
        track = TrackFactory(release=release, track_number=number)
        for seq, artist in enumerate(artists, start=1):
            TrackContributorFactory(track=track, artist=artist, sequence=seq)
    return release
