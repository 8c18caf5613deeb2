"""The catalog-to-DDEX selector, judged by the official ERN 4.3 XSD on real catalog rows.

Every package is built into XML and validated with zero errors; the values stores act on
(ICPN, ISRCs, artists, territories, durations, file names and hashes) are read back with XPath
and compared with the catalog and the package's ResourceFile list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree

from accounts.models import Organization
from accounts.tests.factories import OrganizationFactory
from distribution.choices import AssetKind, AssetStatus, ContributorRole, ParentalWarning
from distribution.ddex import build_new_release_message, validate
from distribution.ddex.model import MessagingParty
from distribution.ddex_input import GENRE_FALLBACK, DdexInputError, DdexPackage, ddex_package
from distribution.models import (
    Artist,
    Asset,
    Label,
    Release,
    ReleaseContributor,
    Track,
)
from distribution.tests.factories import (
    ArtistFactory,
    ReleaseContributorFactory,
    TrackContributorFactory,
    TrackFactory,
)
from distribution.tests.workflow_fixtures import AUDIO_ANALYSIS, ready_asset, submittable_release
from enterprise_suite.errors import NotFound

pytestmark = pytest.mark.django_db

SENDER = MessagingParty(dpid="PADPIDA2014000001X", name="Enterprise Suite Distribution")
STORE = MessagingParty(dpid="PADPIDA2011072101T", name="Example Music Store")
CREATED = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
ISNI = "0000000121707484"
NS = {"ern": "http://ddex.net/xml/ern/43"}


@pytest.fixture(scope="module")
def schema_dir(ddex_schema_dir: Path) -> Path:
    return ddex_schema_dir


@pytest.fixture
def organization() -> Organization:
    return OrganizationFactory(name="Nightfall Collective")


def package(release: Release, **changes: Any) -> DdexPackage:
    arguments: dict[str, Any] = {
        "release_id": release.pk,
        "recipient": STORE,
        "sender": SENDER,
        "kind": "insert",
        "message_id": "MSG-1",
        "thread_id": "THREAD-1",
        "created_at": CREATED,
        **changes,
    }
    return ddex_package(**arguments)


def built(pkg: DdexPackage, schema_dir: Path) -> etree._Element:
    xml = build_new_release_message(pkg.message)
    errors = validate(xml, schema_dir)
    assert errors == [], "\n".join(errors)
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(value) for value in root.xpath(path, namespaces=NS)]


def distinct_hashes(release: Release) -> None:
    """ready_asset gives every file the same digests: make each one its own."""
    for asset in Asset.objects.filter(release=release) | Asset.objects.filter(
        track__release=release
    ):
        seed = str(asset.pk).encode()
        asset.md5 = hashlib.md5(seed, usedforsecurity=False).hexdigest()
        asset.sha256 = hashlib.sha256(seed).hexdigest()
        asset.size_bytes = 1000 + asset.pk.int % 1000
        asset.save(update_fields=["md5", "sha256", "size_bytes"])


def credit(track: Track, artist: Artist, role: str, sequence: int) -> None:
    TrackContributorFactory(track=track, artist=artist, role=role, sequence=sequence)


# --- what the XML says, compared with the catalog -----------------------------------------------


def test_single_maps_the_catalog(organization: Organization, schema_dir: Path) -> None:
    release = submittable_release(organization, tracks=1)
    distinct_hashes(release)
    track = release.tracks.get()
    audio, artwork = Asset.objects.get(track=track), Asset.objects.get(release=release)
    pkg = package(release)
    root = built(pkg, schema_dir)

    assert texts(root, "//Release/ReleaseId/ICPN/text()") == [release.upc]
    assert texts(root, "//Release/ReleaseType/text()") == ["Album"]  # the factory's type
    assert texts(root, "//Release/DisplayTitleText/text()") == ["Northern Lights"]
    assert texts(root, "//SoundRecording//ISRC/text()") == [track.isrc]
    assert texts(root, "//Release/DisplayArtistName/text()") == ["Aurora Vale"]
    assert texts(root, "//SoundRecording/DisplayArtistName/text()") == ["Aurora Vale"]
    assert texts(root, "//SoundRecording/Duration/text()") == ["PT3M20S"]
    assert texts(root, "//Release/ReleaseDate/text()") == [release.release_date.isoformat()]
    assert texts(root, "//Release/PLine/Year/text()") == ["2026"]
    assert texts(root, "//Release/PLine/PLineText/text()") == ["2026 Nightfall"]
    assert texts(root, "//Release/Genre/GenreText/text()") == [GENRE_FALLBACK]
    label_name = "//Party[PartyReference=//Release/ReleaseLabelReference]/PartyName/FullName"
    assert texts(root, f"{label_name}/text()") == [release.label.name]
    assert set(texts(root, "//DealTerms/TerritoryCode/text()")) == {"Worldwide"}
    assert set(texts(root, "//DealTerms/ValidityPeriod/StartDate/text()")) == {
        release.release_date.isoformat()
    }
    assert texts(root, "//MessageControlType/text()") == ["LiveMessage"]

    # The files: named from the UPC and the position, hashed and sized as the catalog says.
    assert [(r.asset_id, r.target_name) for r in pkg.resources] == [
        (audio.pk, f"{release.upc}_01_001.wav"),
        (artwork.pk, f"{release.upc}.jpg"),
    ]
    assert [r.storage_name for r in pkg.resources] == [audio.file.name, artwork.file.name]
    sound_file = "//SoundRecording//DeliveryFile/File"
    assert texts(root, f"{sound_file}/URI/text()") == [pkg.resources[0].target_name]
    assert texts(root, f"{sound_file}/HashSum/Algorithm/text()") == ["MD5"]
    assert texts(root, f"{sound_file}/HashSum/HashSumValue/text()") == [audio.md5]
    assert texts(root, f"{sound_file}/FileSize/text()") == [str(audio.size_bytes)]
    assert texts(root, "//Image//File/URI/text()") == [pkg.resources[1].target_name]
    assert texts(root, "//Image//File/HashSum/HashSumValue/text()") == [artwork.md5]
    assert texts(root, "//Image//ImageWidth/text()") == ["3000"]
    assert pkg.resources[0].md5 == audio.md5
    assert pkg.resources[0].sha256 == audio.sha256
    assert pkg.resources[0].size_bytes == audio.size_bytes
    assert texts(root, "//DeliveryFile/SamplingRate/text()") == ["44.1"]
    assert texts(root, "//DeliveryFile/BitsPerSample/text()") == ["16"]


def test_featured_artist_songwriters_and_territories(
    organization: Organization, schema_dir: Path
) -> None:
    release = submittable_release(organization, tracks=3)
    Release.objects.filter(pk=release.pk).update(
        version="Deluxe",
        primary_genre="Synthpop",
        parental_warning=ParentalWarning.EXPLICIT,
        territories_include=["WW"],
        territories_exclude=["CU", "KP"],
        original_release_date=dt.date(2019, 5, 3),
    )
    Artist.objects.filter(name="Aurora Vale").update(isni=ISNI)
    guest = ArtistFactory(organization=organization, name="Kit Ramos")
    composer = ArtistFactory(organization=organization, name="Ines Vidal")
    lyricist = ArtistFactory(organization=organization, name="Omar Haddad")
    producer = ArtistFactory(organization=organization, name="Jun Park")
    ReleaseContributorFactory(
        release=release, artist=guest, role=ContributorRole.FEATURED_ARTIST, sequence=2
    )
    ReleaseContributorFactory(
        release=release, artist=composer, role=ContributorRole.COMPOSER, sequence=3
    )
    tracks = list(release.tracks.order_by("track_number"))
    for track in tracks:
        credit(track, composer, ContributorRole.COMPOSER, 3)
        credit(track, lyricist, ContributorRole.LYRICIST, 4)
    credit(tracks[1], guest, ContributorRole.FEATURED_ARTIST, 2)
    credit(tracks[2], producer, ContributorRole.PRODUCER, 5)
    Track.objects.filter(pk=tracks[1].pk).update(
        parental_warning=ParentalWarning.EXPLICIT, preview_start_seconds=45, language="en"
    )

    root = built(package(release), schema_dir)

    assert texts(root, "//Release/DisplayTitleText/text()") == ["Northern Lights (Deluxe)"]
    assert texts(root, "//Release/Genre/GenreText/text()") == ["Synthpop"]
    assert texts(root, "//Release/ParentalWarningType/text()") == ["Explicit"]
    assert texts(root, "//Release/OriginalReleaseDate/text()") == ["2019-05-03"]
    assert texts(root, "//Release/DisplayArtistName/text()") == ["Aurora Vale feat. Kit Ramos"]
    assert texts(root, "//Release/DisplayArtist/DisplayArtistRole/text()") == [
        "MainArtist",
        "FeaturedArtist",
    ]
    main_ref = "//Release/DisplayArtist[1]/ArtistPartyReference"
    assert texts(root, f"//Party[PartyReference={main_ref}]/PartyId/ISNI/text()") == [ISNI]
    assert texts(root, "//SoundRecording//ISRC/text()") == [t.isrc for t in tracks]

    first, second, third = (f"//SoundRecording[ResourceReference='A{i}']" for i in (1, 2, 3))
    assert texts(root, f"{first}/DisplayArtistName/text()") == ["Aurora Vale"]
    assert texts(root, f"{first}/Contributor/Role/text()") == ["Composer", "Lyricist"]
    assert texts(root, f"{second}/DisplayArtistName/text()") == ["Aurora Vale feat. Kit Ramos"]
    assert texts(root, f"{second}/Contributor/Role/text()") == ["Artist", "Composer", "Lyricist"]
    assert texts(root, f"{second}/Contributor/HasMadeFeaturedContribution/text()") == ["true"]
    assert texts(root, f"{second}/ParentalWarningType/text()") == ["Explicit"]
    assert texts(root, f"{second}/LanguageOfPerformance/text()") == ["en"]
    assert texts(root, f"{second}//ClipDetails/Timing/StartPoint/text()") == ["45"]
    assert texts(root, f"{first}/ParentalWarningType/text()") == ["NotExplicit"]
    assert texts(root, f"{third}/Contributor/Role/text()") == [
        "Composer",
        "Lyricist",
        "StudioProducer",
    ]
    composer_ref = texts(
        root, f"{third}/Contributor[Role='Composer']/ContributorPartyReference/text()"
    )
    assert texts(root, f"//Party[PartyReference='{composer_ref[0]}']//FullName/text()") == [
        "Ines Vidal"
    ]
    # One Party per person, however many tracks credit them.
    names = texts(root, "//PartyList/Party/PartyName/FullName/text()")
    assert sorted(names) == sorted(set(names))
    for terms in root.xpath("//DealTerms"):
        assert texts(terms, "TerritoryCode/text()") == []
        assert texts(terms, "ExcludedTerritoryCode/text()") == ["CU", "KP"]


def test_two_discs_and_a_track_without_credits(
    organization: Organization, schema_dir: Path
) -> None:
    release = submittable_release(organization, tracks=2)
    Release.objects.filter(pk=release.pk).update(territories_include=["US", "CA"])
    # Disc 2 is created first and has no credits and no duration of its own.
    bonus = TrackFactory(
        release=release, disc_number=2, track_number=1, title="Bonus", duration_seconds=None
    )
    ready_asset(kind=AssetKind.AUDIO, track=bonus)
    Asset.objects.filter(track=bonus).update(analysis={**AUDIO_ANALYSIS, "duration_seconds": 62.5})
    pkg = package(release)
    root = built(pkg, schema_dir)

    isrcs = [t.isrc for t in release.tracks.order_by("disc_number", "track_number")]
    assert texts(root, "//SoundRecording//ISRC/text()") == isrcs
    assert [r.target_name for r in pkg.resources] == [
        f"{release.upc}_01_001.wav",
        f"{release.upc}_01_002.wav",
        f"{release.upc}_02_001.wav",
        f"{release.upc}.jpg",
    ]
    assert texts(root, "//SoundRecording//DeliveryFile/File/URI/text()") == [
        r.target_name for r in pkg.resources[:3]
    ]
    assert texts(root, "//Image//File/URI/text()") == [pkg.resources[3].target_name]
    groups = root.xpath("//Release/ResourceGroup/ResourceGroup")
    assert [texts(g, "SequenceNumber/text()") for g in groups] == [["1"], ["2"]]
    assert texts(groups[1], "ResourceGroupContentItem/ReleaseResourceReference/text()") == ["A3"]
    bonus_recording = "//SoundRecording[ResourceReference='A3']"
    assert texts(root, f"{bonus_recording}/DisplayTitleText/text()") == ["Bonus"]
    assert texts(root, f"{bonus_recording}/DisplayArtistName/text()") == ["Aurora Vale"]
    assert texts(root, f"{bonus_recording}/Contributor") == []
    assert texts(root, f"{bonus_recording}/Duration/text()") == ["PT1M2.5S"]
    assert texts(root, "//Release/Duration/text()") == ["PT7M42.5S"]
    assert texts(root, "//ReleaseDeal[1]/Deal[1]//TerritoryCode/text()") == ["US", "CA"]


def test_fallbacks_to_label_and_organization(organization: Organization, schema_dir: Path) -> None:
    release = submittable_release(organization, tracks=1)
    label = Label.objects.get(pk=release.label_id)
    Label.objects.filter(pk=label.pk).update(
        p_line="\u2117 2024 Nightfall Records", c_line="Nightfall Records"
    )
    Release.objects.filter(pk=release.pk).update(p_line="", c_line="", language="fr")
    root = built(package(release), schema_dir)
    assert texts(root, "//Release/PLine/Year/text()") == ["2024"]
    assert texts(root, "//Release/PLine/PLineText/text()") == ["\u2117 2024 Nightfall Records"]
    # No year in the text: the release date's.
    assert texts(root, "//Release/CLine/Year/text()") == [str(release.release_date.year)]
    assert texts(root, "//SoundRecording/LanguageOfPerformance/text()") == ["fr"]
    label_name = "//Party[PartyReference=//Release/ReleaseLabelReference]/PartyName/FullName"
    assert texts(root, f"{label_name}/text()") == [label.name]

    Release.objects.filter(pk=release.pk).update(label=None, p_line="2025 Self", c_line="2025 S")
    root = built(package(release), schema_dir)
    assert texts(root, f"{label_name}/text()") == ["Nightfall Collective"]


def test_sha256_flac_png_current_assets_and_test_message(
    organization: Organization, schema_dir: Path
) -> None:
    release = submittable_release(organization, tracks=2)
    track = release.tracks.get(track_number=2)
    # A new upload supersedes the old one: only the current file is delivered.
    Asset.objects.filter(track=track).update(superseded_at=timezone.now())
    Asset.objects.filter(release=release).update(superseded_at=timezone.now())
    flac = ready_asset(kind=AssetKind.AUDIO, track=track)
    png = ready_asset(kind=AssetKind.ARTWORK, release=release)
    Asset.objects.filter(pk=flac.pk).update(
        content_type="audio/flac",
        analysis={**AUDIO_ANALYSIS, "container": "FLAC", "codec": "FLAC", "bit_depth": 24},
    )
    Asset.objects.filter(pk=png.pk).update(content_type="image/png")
    distinct_hashes(release)
    flac.refresh_from_db()
    png.refresh_from_db()

    pkg = package(release, hash_algorithm="SHA-256", test_message=True)
    root = built(pkg, schema_dir)

    assert [r.target_name for r in pkg.resources][1:] == [
        f"{release.upc}_01_002.flac",
        f"{release.upc}.png",
    ]
    assert [r.asset_id for r in pkg.resources][1:] == [flac.pk, png.pk]
    second = "//SoundRecording[ResourceReference='A2']//DeliveryFile"
    assert texts(root, f"{second}/AudioCodecType/text()") == ["FLAC"]
    assert texts(root, f"{second}/BitsPerSample/text()") == ["24"]
    assert texts(root, f"{second}/File/HashSum/Algorithm/text()") == ["SHA-256"]
    assert texts(root, f"{second}/File/HashSum/HashSumValue/text()") == [flac.sha256]
    assert texts(root, "//Image//ImageCodecType/text()") == ["PNG"]
    assert texts(root, "//Image//File/HashSum/HashSumValue/text()") == [png.sha256]
    assert texts(root, "//MessageControlType/text()") == ["TestMessage"]


def test_update_is_the_same_message_with_a_new_id(
    organization: Organization, schema_dir: Path
) -> None:
    release = submittable_release(organization, tracks=2)
    insert = build_new_release_message(package(release).message)
    pkg = package(release, kind="update", message_id="MSG-2")
    root = built(pkg, schema_dir)
    assert texts(root, "//MessageId/text()") == ["MSG-2"]
    assert root.xpath("count(//DealList/ReleaseDeal)") == 2
    assert build_new_release_message(pkg.message).replace(b"MSG-2", b"MSG-1") == insert


def test_takedown_has_no_deals(organization: Organization, schema_dir: Path) -> None:
    release = submittable_release(organization, tracks=2)
    # Territories only matter for deals: a release offered nowhere can still be taken down.
    Release.objects.filter(pk=release.pk).update(territories_include=[])
    pkg = package(release, kind="takedown", message_id="MSG-3")
    assert pkg.message.deals == ()
    root = built(pkg, schema_dir)
    assert root.xpath("count(//DealList)") == 0
    assert root.xpath("count(//Deal)") == 0
    assert texts(root, "//Release/ReleaseId/ICPN/text()") == [release.upc]
    isrcs = [t.isrc for t in release.tracks.order_by("track_number")]
    assert texts(root, "//SoundRecording//ISRC/text()") == isrcs


def test_names_are_deterministic(organization: Organization) -> None:
    release = submittable_release(organization, tracks=3)
    first, again = package(release), package(release)
    assert first == again
    names = [r.target_name for r in first.resources]
    assert len(set(names)) == len(names) == 4


def test_fixed_number_of_queries(organization: Organization, schema_dir: Path) -> None:
    small = submittable_release(organization, tracks=1)
    big = submittable_release(OrganizationFactory(), tracks=12)
    with CaptureQueriesContext(connection) as small_queries:
        package(small)
    with CaptureQueriesContext(connection) as big_queries:
        big_package = package(big)
    assert len(small_queries) == len(big_queries) == 5
    assert len(big_package.resources) == 13
    assert len(built(big_package, schema_dir).xpath("//SoundRecording")) == 12


# --- what makes a release undeliverable -----------------------------------------------------------


def _no_upc(r: Release) -> None:
    Release.objects.filter(pk=r.pk).update(upc="")


def _no_release_date(r: Release) -> None:
    Release.objects.filter(pk=r.pk).update(release_date=None)


def _only_a_featured_artist(r: Release) -> None:
    ReleaseContributor.objects.filter(release=r).update(role=ContributorRole.FEATURED_ARTIST)


def _no_credits(r: Release) -> None:
    ReleaseContributor.objects.filter(release=r).delete()


def _track_without_isrc(r: Release) -> None:
    Track.objects.filter(release=r, track_number=2).update(isrc="")


def _no_artwork(r: Release) -> None:
    Asset.objects.filter(release=r).delete()


def _artwork_superseded(r: Release) -> None:
    Asset.objects.filter(release=r).update(superseded_at=timezone.now())


def _artwork_analysing(r: Release) -> None:
    Asset.objects.filter(release=r).update(status=AssetStatus.ANALYSING)


def _no_audio(r: Release) -> None:
    Asset.objects.filter(track__release=r, track__track_number=2).delete()


def _audio_unreadable(r: Release) -> None:
    Asset.objects.filter(track__release=r, track__track_number=2).update(
        status=AssetStatus.UNREADABLE
    )


def _audio_not_analysed(r: Release) -> None:
    Asset.objects.filter(track__release=r, track__track_number=2).update(analysis={})


def _audio_float_wav(r: Release) -> None:
    Asset.objects.filter(track__release=r, track__track_number=2).update(
        analysis={**AUDIO_ANALYSIS, "codec": "IEEE_FLOAT", "bit_depth": 32}
    )


def _no_duration(r: Release) -> None:
    Track.objects.filter(release=r, track_number=2).update(duration_seconds=None)
    Asset.objects.filter(track__release=r, track__track_number=2).update(
        analysis={**AUDIO_ANALYSIS, "duration_seconds": None}
    )


def _no_p_line(r: Release) -> None:
    Release.objects.filter(pk=r.pk).update(p_line="")
    Label.objects.filter(pk=r.label_id).update(p_line="")


def _no_territories(r: Release) -> None:
    Release.objects.filter(pk=r.pk).update(territories_include=[])


def _every_territory_excluded(r: Release) -> None:
    Release.objects.filter(pk=r.pk).update(territories_include=["GB"], territories_exclude=["GB"])


def _no_tracks(r: Release) -> None:
    Track.objects.filter(release=r).delete()


@pytest.mark.parametrize(
    ("breaks", "field", "says"),
    [
        (_no_upc, "upc", "no UPC"),
        (_no_release_date, "release_date", "no release date"),
        (_only_a_featured_artist, "contributors", "no primary artist"),
        (_no_credits, "contributors", "no primary artist"),
        (_track_without_isrc, "tracks.1-02.isrc", 'Track 1-02 "Aurora Song 2" has no ISRC'),
        (_no_artwork, "artwork", "artwork has no current file"),
        (_artwork_superseded, "artwork", "artwork has no current file"),
        (_artwork_analysing, "artwork", "not ready (status: analysing)"),
        (_no_audio, "tracks.1-02.audio", "audio has no current file"),
        (_audio_unreadable, "tracks.1-02.audio", "not ready (status: unreadable)"),
        (_audio_not_analysed, "tracks.1-02.audio", "lacks sample_rate, bit_depth, channels"),
        (_audio_float_wav, "tracks.1-02.audio", "audio is IEEE_FLOAT, not PCM WAV/FLAC"),
        (_no_duration, "tracks.1-02.duration", "has no duration"),
        (_no_p_line, "p_line", "no (P) line"),
        (_no_territories, "territories_include", "not offered in any territory"),
        (_every_territory_excluded, "territories_include", "not offered in any territory"),
        (_no_tracks, "tracks", "no tracks"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_undeliverable_release_builds_nothing(
    organization: Organization, breaks: Callable[[Release], None], field: str, says: str
) -> None:
    release = submittable_release(organization, tracks=2)
    breaks(release)
    with pytest.raises(DdexInputError) as raised:
        package(release)
    error = raised.value
    assert error.status_code == 400
    assert error.code == "release_not_deliverable"
    assert [problem["field"] for problem in error.details["problems"]] == [field]
    assert says in error.details["problems"][0]["message"]
    assert says in error.message


def test_every_problem_is_listed_at_once(organization: Organization) -> None:
    release = submittable_release(organization, tracks=3)
    _no_upc(release)
    _no_release_date(release)
    Track.objects.filter(release=release).update(isrc="")
    _no_artwork(release)
    with pytest.raises(DdexInputError) as raised:
        package(release, kind="takedown")
    assert [p["field"] for p in raised.value.details["problems"]] == [
        "upc",
        "release_date",
        "tracks.1-01.isrc",
        "tracks.1-02.isrc",
        "tracks.1-03.isrc",
        "artwork",
    ]


def test_bad_arguments(organization: Organization) -> None:
    release = submittable_release(organization, tracks=1)
    with pytest.raises(NotFound):
        package(release, release_id="not-a-uuid")
    with pytest.raises(ValueError, match="time zone"):
        package(release, created_at=dt.datetime(2026, 3, 1, 9, 30))
    with pytest.raises(ValueError, match="SHA-1"):
        package(release, hash_algorithm="SHA-1")
    with pytest.raises(ValueError, match="purge"):
        package(release, kind="purge")
