"""`release_snapshot` reads a release for validation: content, effective lines, fixed queries."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory
from distribution.choices import AssetKind, AssetStatus, ContributorRole
from distribution.models import Asset, Release, Track
from distribution.tests.factories import (
    ArtistFactory,
    LabelFactory,
    ReleaseContributorFactory,
    ReleaseFactory,
    TrackContributorFactory,
    TrackFactory,
    release_with_tracks,
)
from distribution.validation import (
    AssetSnapshot,
    CreditSnapshot,
    release_snapshot,
    validate_release,
)
from enterprise_suite.errors import NotFound

pytestmark = pytest.mark.django_db

ARTWORK_ANALYSIS = {
    "format": "JPEG",
    "width": 3000,
    "height": 3000,
    "color_mode": "RGB",
    "dpi": [300, 300],
}
AUDIO_ANALYSIS = {
    "container": "WAV",
    "codec": "PCM",
    "sample_rate": 44100,
    "bit_depth": 24,
    "channels": 2,
    "duration_seconds": 200.5,
}


def make_asset(*, superseded: bool = False, **fields: Any) -> Asset:
    kind = fields["kind"]
    owner = fields.get("release") or fields["track"]
    defaults: dict[str, Any] = {
        "organization": owner.organization,
        "file": f"assets/{uuid.uuid4().hex}.{'jpg' if kind == AssetKind.ARTWORK else 'wav'}",
        "content_type": "image/jpeg" if kind == AssetKind.ARTWORK else "audio/wav",
        "size_bytes": 1_000_000,
        "sha256": "0" * 64,
        "md5": "0" * 32,
        "status": AssetStatus.READY,
        "analysis": ARTWORK_ANALYSIS if kind == AssetKind.ARTWORK else AUDIO_ANALYSIS,
        "superseded_at": timezone.now() if superseded else None,
    }
    return Asset.objects.create(**(defaults | fields))


def test_snapshot_content() -> None:
    org = OrganizationFactory()
    label = LabelFactory(organization=org, p_line="2026 Label P", c_line="2026 Label C")
    release = ReleaseFactory(
        organization=org,
        label=label,
        title="Tides",
        version="Deluxe",
        upc="4006381333931",
        release_date=datetime.date(2026, 6, 1),
        p_line="",
        c_line="",
        territories_include=["WW"],
        territories_exclude=["CU"],
    )
    nova = ArtistFactory(organization=org, name="Nova Lake")
    jun = ArtistFactory(organization=org, name="Jun Park")
    ReleaseContributorFactory(release=release, artist=jun, role="featured_artist", sequence=2)
    ReleaseContributorFactory(release=release, artist=nova, role="primary_artist", sequence=1)
    # Created out of order: the snapshot lists tracks by disc, then track number.
    disc2 = TrackFactory(release=release, disc_number=2, track_number=1, title="Encore")
    second = TrackFactory(release=release, track_number=2, title="Evening", isrc="")
    first = TrackFactory(release=release, track_number=1, title="Morning", version="Radio Edit")
    TrackContributorFactory(track=first, artist=nova, role=ContributorRole.PRIMARY_ARTIST)
    TrackContributorFactory(track=first, artist=jun, role=ContributorRole.REMIXER, sequence=2)

    make_asset(kind=AssetKind.ARTWORK, release=release, superseded=True, status="unreadable")
    artwork = make_asset(kind=AssetKind.ARTWORK, release=release, size_bytes=4_200_000)
    make_asset(kind=AssetKind.AUDIO, track=first, superseded=True)
    audio = make_asset(kind=AssetKind.AUDIO, track=first, status="unreadable", error="bad RIFF")
    pending = make_asset(kind=AssetKind.AUDIO, track=disc2, status="analysing", analysis={})
    # Another release's current assets stay out.
    other = release_with_tracks(org, tracks=1, credits=1)
    make_asset(kind=AssetKind.ARTWORK, release=other)
    make_asset(kind=AssetKind.AUDIO, track=other.tracks.get())

    snapshot = release_snapshot(release_id=release.pk)

    assert (snapshot.id, snapshot.title, snapshot.version) == (release.pk, "Tides", "Deluxe")
    assert (snapshot.release_type, snapshot.upc) == ("album", "4006381333931")
    assert snapshot.release_date == datetime.date(2026, 6, 1)
    assert (snapshot.p_line, snapshot.c_line) == ("2026 Label P", "2026 Label C")
    assert snapshot.territories_include == ("WW",)
    assert snapshot.territories_exclude == ("CU",)
    assert snapshot.credits == (
        CreditSnapshot(artist_id=nova.pk, artist_name="Nova Lake", role="primary_artist"),
        CreditSnapshot(artist_id=jun.pk, artist_name="Jun Park", role="featured_artist"),
    )
    assert [t.id for t in snapshot.tracks] == [first.pk, second.pk, disc2.pk]
    assert [(t.disc_number, t.track_number, t.position) for t in snapshot.tracks] == [
        (1, 1, "1-01"),
        (1, 2, "1-02"),
        (2, 1, "2-01"),
    ]
    snap_first, snap_second, snap_disc2 = snapshot.tracks
    assert (snap_first.title, snap_first.version, snap_first.isrc) == (
        "Morning",
        "Radio Edit",
        first.isrc,
    )
    assert (snap_first.parental_warning, snap_first.duration_seconds) == ("not_explicit", 200)
    assert snap_first.credits == (
        CreditSnapshot(artist_id=nova.pk, artist_name="Nova Lake", role="primary_artist"),
        CreditSnapshot(artist_id=jun.pk, artist_name="Jun Park", role="remixer"),
    )
    assert snap_second.credits == () and snap_second.isrc == "" and snap_second.audio is None

    assert snapshot.artwork == AssetSnapshot(
        id=artwork.pk,
        kind="artwork",
        status="ready",
        content_type="image/jpeg",
        size_bytes=4_200_000,
        analysis=ARTWORK_ANALYSIS,
        error="",
    )
    assert snap_first.audio is not None
    assert (snap_first.audio.id, snap_first.audio.status, snap_first.audio.error) == (
        audio.pk,
        "unreadable",
        "bad RIFF",
    )
    assert snap_disc2.audio is not None
    assert (snap_disc2.audio.id, snap_disc2.audio.analysis) == (pending.pk, {})


def test_release_lines_win_over_the_label() -> None:
    label = LabelFactory(p_line="Label P", c_line="Label C")
    own = ReleaseFactory(organization=label.organization, label=label, p_line="Own P", c_line="")
    unlabelled = ReleaseFactory(organization=label.organization, label=None, p_line="", c_line="")
    assert (
        release_snapshot(release_id=own.pk).p_line,
        release_snapshot(release_id=own.pk).c_line,
    ) == (
        "Own P",
        "Label C",
    )
    snapshot = release_snapshot(release_id=unlabelled.pk)
    assert (snapshot.p_line, snapshot.c_line, snapshot.artwork, snapshot.tracks) == (
        "",
        "",
        None,
        (),
    )


def test_unknown_release_is_not_found() -> None:
    with pytest.raises(NotFound):
        release_snapshot(release_id=uuid.uuid4())
    with pytest.raises(NotFound):
        release_snapshot(release_id="not-a-uuid")


def _release_with_assets(tracks: int) -> Release:
    org = OrganizationFactory()
    release = release_with_tracks(org, tracks=tracks, credits=3)
    for superseded in (True, False):
        make_asset(kind=AssetKind.ARTWORK, release=release, superseded=superseded)
        for track in Track.objects.filter(release=release):
            make_asset(kind=AssetKind.AUDIO, track=track, superseded=superseded)
    return release


def _queries(release_id: uuid.UUID) -> int:
    with CaptureQueriesContext(connection) as captured:
        snapshot = release_snapshot(release_id=release_id)
    assert all(t.audio is not None for t in snapshot.tracks)
    return len(captured)


def test_query_count_does_not_grow_with_tracks() -> None:
    small = _release_with_assets(tracks=1)
    large = _release_with_assets(tracks=20)
    empty = ReleaseFactory()
    assert _queries(small.pk) == _queries(large.pk) == _queries(empty.pk) == 5
    assert len(release_snapshot(release_id=large.pk).tracks) == 20


def test_snapshot_of_a_factory_release_feeds_validation() -> None:
    release = _release_with_assets(tracks=2)
    findings = validate_release(
        release_snapshot(release_id=release.pk),
        today=datetime.date(2026, 1, 1),
        lead_days=7,
        artwork_max_bytes=50 * 1024 * 1024,
        audio_max_bytes=2 * 1024 * 1024 * 1024,
        artwork_min_side=3000,
        isrc_allocation=False,
    )
    # The factory release is complete but for its release date.
    assert [(f.rule_id, f.field) for f in findings] == [("release.date.future", "release_date")]
