"""A release that passes every validation rule, built directly in the database."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Organization
from distribution.choices import AssetKind, AssetStatus, ContributorRole, ParentalWarning
from distribution.models import Asset, Release
from distribution.tests.factories import (
    ArtistFactory,
    ReleaseContributorFactory,
    ReleaseFactory,
    TrackContributorFactory,
    TrackFactory,
)

ARTWORK_ANALYSIS = {
    "format": "JPEG",
    "width": 3000,
    "height": 3000,
    "color_mode": "RGB",
    "dpi": None,
}
AUDIO_ANALYSIS = {
    "container": "WAV",
    "codec": "PCM",
    "sample_rate": 44100,
    "bit_depth": 16,
    "channels": 2,
    "duration_seconds": 200.0,
}


def ready_asset(*, kind: str, **owner: object) -> Asset:
    release = owner.get("release") or owner["track"].release  # type: ignore[attr-defined]
    return Asset.objects.create(
        organization_id=release.organization_id,
        kind=kind,
        file=f"assets/test/{kind}.bin",
        content_type="image/jpeg" if kind == AssetKind.ARTWORK else "audio/wav",
        size_bytes=1000,
        sha256="0" * 64,
        md5="0" * 32,
        status=AssetStatus.READY,
        analysis=ARTWORK_ANALYSIS if kind == AssetKind.ARTWORK else AUDIO_ANALYSIS,
        **owner,
    )


def submittable_release(organization: Organization, *, tracks: int = 2) -> Release:
    release = ReleaseFactory(
        organization=organization,
        title="Northern Lights",
        release_date=timezone.localdate() + dt.timedelta(days=organization.release_lead_days + 14),
        p_line="2026 Nightfall",
        c_line="2026 Nightfall",
        territories_include=["WW"],
    )
    artist = ArtistFactory(organization=organization, name="Aurora Vale")
    ReleaseContributorFactory(release=release, artist=artist, role=ContributorRole.PRIMARY_ARTIST)
    ready_asset(kind=AssetKind.ARTWORK, release=release)
    for number in range(1, tracks + 1):
        track = TrackFactory(
            release=release,
            track_number=number,
            title=f"Aurora Song {number}" if tracks > 1 else release.title,
            parental_warning=ParentalWarning.NOT_EXPLICIT,
        )
        TrackContributorFactory(track=track, artist=artist, role=ContributorRole.PRIMARY_ARTIST)
        ready_asset(kind=AssetKind.AUDIO, track=track)
    return release


def store_real_files(release: Release, *, wav_seconds: float = 0.5) -> None:
    """Give the release's assets real bytes in storage (with their checksums), so a worker can
    package and deliver it."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from distribution.tests.media_files import make_jpeg, make_wav

    for asset in Asset.objects.filter(release=release) | Asset.objects.filter(
        track__release=release
    ):
        data = make_jpeg(3000, 3000) if asset.kind == AssetKind.ARTWORK else make_wav(wav_seconds)
        asset.file.name = default_storage.save(f"assets/test/{asset.pk}", ContentFile(data))
        asset.size_bytes = len(data)
        asset.md5 = hashlib.md5(data).hexdigest()  # noqa: S324 (DDEX's HashSum, not security)
        asset.sha256 = hashlib.sha256(data).hexdigest()
        asset.save()
