"""An immutable picture of a release, everything the validation rules look at.

The rules are pure functions of a `ReleaseSnapshot`, so they are tested without a database and
a validation run reads the catalog exactly once. `release_snapshot` loads it in a fixed number
of queries (five) whatever the number of tracks, credits or assets.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from distribution.choices import AssetKind, ContributorRole
from distribution.models import Asset, Release, ReleaseContributor, Track, TrackContributor
from enterprise_suite.errors import NotFound

_RELEASE_FIELDS = (
    "id",
    "title",
    "version",
    "release_type",
    "upc",
    "release_date",
    "p_line",
    "c_line",
    "label__p_line",
    "label__c_line",
    "territories_include",
    "territories_exclude",
)
_TRACK_FIELDS = (
    "id",
    "disc_number",
    "track_number",
    "title",
    "version",
    "isrc",
    "parental_warning",
    "duration_seconds",
)
_ASSET_FIELDS = (
    "id",
    "kind",
    "release_id",
    "track_id",
    "status",
    "content_type",
    "size_bytes",
    "analysis",
    "error",
)


@dataclass(frozen=True)
class AssetSnapshot:
    """A current (not superseded) artwork or audio file and what its analysis found."""

    id: uuid.UUID
    kind: str
    status: str
    content_type: str
    size_bytes: int
    # Excluded from hashing (dicts are unhashable); still compared.
    analysis: dict[str, Any] = field(default_factory=dict, hash=False)
    error: str = ""


@dataclass(frozen=True)
class CreditSnapshot:
    """An artist credited on a release or a track, in a role."""

    artist_id: uuid.UUID
    artist_name: str
    role: str


@dataclass(frozen=True)
class TrackSnapshot:
    """A track with its credits (in display order) and its current audio master."""

    id: uuid.UUID
    disc_number: int
    track_number: int
    title: str
    version: str = ""
    isrc: str = ""
    parental_warning: str = ""
    duration_seconds: int | None = None
    credits: tuple[CreditSnapshot, ...] = ()
    audio: AssetSnapshot | None = None

    @property
    def position(self) -> str:
        """Disc-track position as shown to people, e.g. '1-02'."""
        return f"{self.disc_number}-{self.track_number:02d}"

    @property
    def label(self) -> str:
        """How messages name the track, e.g. 'Track 1-02 "Intro"'."""
        return f'Track {self.position} "{self.title}"'


@dataclass(frozen=True)
class ReleaseSnapshot:
    """A release, its credits, its tracks in disc/track order and its current artwork.

    `p_line` and `c_line` are the effective values: the release's own, else its label's.
    """

    id: uuid.UUID
    title: str
    version: str = ""
    release_type: str = ""
    upc: str = ""
    release_date: datetime.date | None = None
    p_line: str = ""
    c_line: str = ""
    territories_include: tuple[str, ...] = ()
    territories_exclude: tuple[str, ...] = ()
    credits: tuple[CreditSnapshot, ...] = ()
    tracks: tuple[TrackSnapshot, ...] = ()
    artwork: AssetSnapshot | None = None

    @property
    def primary_artists(self) -> tuple[CreditSnapshot, ...]:
        return tuple(c for c in self.credits if c.role == ContributorRole.PRIMARY_ARTIST)


def _asset(row: dict[str, Any]) -> AssetSnapshot:
    return AssetSnapshot(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        analysis=dict(row["analysis"] or {}),
        error=row["error"],
    )


def release_snapshot(*, release_id: uuid.UUID | str) -> ReleaseSnapshot:
    """Load a release for validation in five queries, whatever its size.

    Queries: release with its label; release credits; tracks; track credits; current assets of
    the release and its tracks. Callers scope by organization beforehand (e.g. `release_get`);
    an unknown id raises NotFound.
    """
    try:
        row = Release.objects.filter(pk=release_id).values(*_RELEASE_FIELDS).get()
    except (Release.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound("No such release.") from None
    pk = row["id"]

    release_credits = tuple(
        CreditSnapshot(artist_id=artist_id, artist_name=name, role=role)
        for artist_id, name, role in ReleaseContributor.objects.filter(release_id=pk)
        .order_by("sequence", "role", "artist__name")
        .values_list("artist_id", "artist__name", "role")
    )
    track_rows = list(
        Track.objects.filter(release_id=pk)
        .order_by("disc_number", "track_number")
        .values(*_TRACK_FIELDS)
    )
    # Filtering through the join (not `track_id__in=[...]`) keeps the query count fixed even for
    # a release without tracks, where an empty IN would be skipped.
    track_credits: dict[uuid.UUID, list[CreditSnapshot]] = defaultdict(list)
    for track_id, artist_id, name, role in (
        TrackContributor.objects.filter(track__release_id=pk)
        .order_by("sequence", "role", "artist__name")
        .values_list("track_id", "artist_id", "artist__name", "role")
    ):
        track_credits[track_id].append(
            CreditSnapshot(artist_id=artist_id, artist_name=name, role=role)
        )

    artwork: AssetSnapshot | None = None
    audio: dict[uuid.UUID, AssetSnapshot] = {}
    assets = Asset.objects.filter(
        Q(kind=AssetKind.ARTWORK, release_id=pk) | Q(kind=AssetKind.AUDIO, track__release_id=pk),
        superseded_at__isnull=True,
    ).values(*_ASSET_FIELDS)
    for asset_row in assets:
        if asset_row["kind"] == AssetKind.ARTWORK:
            artwork = _asset(asset_row)
        else:
            audio[asset_row["track_id"]] = _asset(asset_row)

    tracks = tuple(
        TrackSnapshot(
            credits=tuple(track_credits.get(t["id"], ())),
            audio=audio.get(t["id"]),
            **t,
        )
        for t in track_rows
    )
    return ReleaseSnapshot(
        id=pk,
        title=row["title"],
        version=row["version"],
        release_type=row["release_type"],
        upc=row["upc"],
        release_date=row["release_date"],
        p_line=row["p_line"] or row["label__p_line"] or "",
        c_line=row["c_line"] or row["label__c_line"] or "",
        territories_include=tuple(row["territories_include"] or ()),
        territories_exclude=tuple(row["territories_exclude"] or ()),
        credits=release_credits,
        tracks=tracks,
        artwork=artwork,
    )
