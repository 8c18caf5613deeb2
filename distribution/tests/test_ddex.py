"""DDEX ERN 4.3 builder and validator, judged by the official XSD (no database needed).

Every built message must validate with zero errors, and the values stores act on (identifiers,
territories, dates, durations, hashes, artists, deals) are read back with XPath.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from distribution import choices
from distribution.ddex import (
    SchemaNotFound,
    build_new_release_message,
    build_purge_release_message,
    schema,
    validate,
)
from distribution.ddex.common import AVS_VERSION_ID, iso_duration
from distribution.ddex.model import (
    ArtistRole,
    AudioFile,
    AudioFormat,
    CommercialModel,
    Contributor,
    ContributorRole,
    CopyrightLine,
    CoverImage,
    Deal,
    DisplayArtist,
    FileHash,
    HashAlgorithm,
    ImageFormat,
    MessageControlType,
    MessageHeader,
    MessageKind,
    MessagingParty,
    NewReleaseMessageInput,
    ParentalWarning,
    Party,
    PurgeReleaseMessageInput,
    Release,
    ReleaseType,
    Territories,
    Track,
    UseType,
    standard_deals,
)

DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parents[2].parent / "shared/ddex/ern43"
SCHEMA_DIR = Path(os.environ.get("DDEX_SCHEMA_DIR", DEFAULT_SCHEMA_DIR))

SENDER = MessagingParty(dpid="PADPIDA2014000001X", name="Enterprise Suite Distribution")
STORE = MessagingParty(dpid="PADPIDA2011072101T", name="Example Music Store")
CREATED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
RELEASE_DATE = date(2025, 4, 18)
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
SHA256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"

MAIN = Party("Nova Lane", key="artist-1", isni="0000000121707484")
GUEST = Party("Kit Ramos", key="artist-2")
COMPOSER = Party("Ines Vidal", key="artist-3")
LYRICIST = Party("Omar Haddad", key="artist-4")
PRODUCER = Party("Jun Park", key="artist-5")


@pytest.fixture(scope="module")
def schema_dir() -> Path:
    if not (SCHEMA_DIR / "release-notification.xsd").is_file():
        message = (
            f"DDEX ERN 4.3 schema not found in {SCHEMA_DIR}: set DDEX_SCHEMA_DIR to the directory "
            "holding release-notification.xsd and allowed-value-sets.xsd (the default is "
            "../shared/ddex/ern43 beside the repository)."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SCHEMA_DIR


NS = {"ern": "http://ddex.net/xml/ern/43"}


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(value) for value in root.xpath(path, namespaces=NS)]


def assert_valid(xml: bytes, schema_dir: Path) -> etree._Element:
    errors = validate(xml, schema_dir)
    assert errors == [], "\n".join(errors)
    return parse(xml)


def header(
    message_id: str = "MSG-0001", control: MessageControlType = MessageControlType.LIVE
) -> MessageHeader:
    return MessageHeader(
        message_id=message_id,
        thread_id="THREAD-0001",
        sender=SENDER,
        recipient=STORE,
        created_at=CREATED,
        control_type=control,
    )


def make_track(number: int, *, disc: int = 1, title: str | None = None, **changes: Any) -> Track:
    track = Track(
        isrc=f"USRC1{disc}{number:06d}0"[:12],
        title=title or f"Track {disc}-{number}",
        track_number=number,
        disc_number=disc,
        duration_seconds=205,
        audio=AudioFile(
            file_name=f"resources/{disc:02d}_{number:02d}.wav",
            format=AudioFormat.WAV,
            bits_per_sample=24,
            sample_rate_hz=44100,
            channels=2,
            size_bytes=54_000_000,
            hash=FileHash(HashAlgorithm.MD5, MD5),
        ),
        display_artists=(DisplayArtist(MAIN),),
        language="en",
    )
    return replace(track, **changes)


def make_release(tracks: tuple[Track, ...], **changes: Any) -> Release:
    release = Release(
        icpn="036000291452",
        title=tracks[0].title,
        release_type=ReleaseType.SINGLE,
        label_name="Northern Lights Records",
        genre="Pop",
        p_line=CopyrightLine(2025, "2025 Northern Lights Records"),
        c_line=CopyrightLine(2025, "2025 Northern Lights Records"),
        release_date=RELEASE_DATE,
        original_release_date=date(2024, 12, 1),
        display_artists=(DisplayArtist(MAIN),),
        cover=CoverImage(
            file_name="resources/cover.jpg",
            format=ImageFormat.JPEG,
            width=3000,
            height=3000,
            size_bytes=2_400_000,
            hash=FileHash(HashAlgorithm.SHA256, SHA256),
        ),
        tracks=tracks,
    )
    return replace(release, **changes)


def message(release: Release, **changes: Any) -> NewReleaseMessageInput:
    built = NewReleaseMessageInput(
        header=header(), release=release, deals=standard_deals(release.release_date)
    )
    return replace(built, **changes)


def ep_release() -> Release:
    credits = (
        Contributor(COMPOSER, ContributorRole.COMPOSER),
        Contributor(LYRICIST, ContributorRole.LYRICIST),
        Contributor(PRODUCER, ContributorRole.PRODUCER),
    )
    tracks = tuple(make_track(n, contributors=credits) for n in range(1, 5))
    featured = replace(
        tracks[1],
        display_artists=(
            DisplayArtist(MAIN),
            DisplayArtist(GUEST, ArtistRole.FEATURED_ARTIST),
        ),
        contributors=(*credits, Contributor(GUEST, ContributorRole.FEATURED_ARTIST)),
    )
    return make_release(
        (tracks[0], featured, tracks[2], tracks[3]),
        title="Night Drive",
        version="Deluxe",
        release_type=ReleaseType.EP,
        parental_warning=ParentalWarning.EXPLICIT,
        territories=Territories(include=("WW",), exclude=("CU", "KP")),
    )


# --- the loader, proven on the official samples ----------------------------------------------


def test_all_official_samples_validate(schema_dir: Path) -> None:
    samples = sorted((schema_dir / "samples").glob("*.xml"))
    assert len(samples) == 9
    for sample in samples:
        assert validate(sample.read_bytes(), schema_dir) == [], sample.name


def test_schema_is_compiled_once_per_directory(schema_dir: Path) -> None:
    xml = (schema_dir / "samples" / "4_SimpleAudioSingle.xml").read_bytes()
    validate(xml, schema_dir)
    compiled = schema._load.cache_info().currsize
    validate(xml, str(schema_dir))
    validate(xml, schema_dir / "." / "samples" / "..")
    assert schema._load.cache_info().currsize == compiled


def test_avs_version_matches_the_schema(schema_dir: Path) -> None:
    avs = etree.parse(str(schema_dir / "allowed-value-sets.xsd"))
    documented = avs.xpath(
        "//xs:documentation[@source='AvsVersionId']/text()",
        namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    assert documented == [AVS_VERSION_ID]


def test_every_ddex_value_the_model_uses_is_allowed(schema_dir: Path) -> None:
    avs = etree.parse(str(schema_dir / "allowed-value-sets.xsd"))

    def allowed(type_name: str) -> set[str]:
        return set(
            avs.xpath(
                f"//xs:simpleType[@name='{type_name}']//xs:enumeration/@value",
                namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
            )
        )

    assert {t.ddex for t in ReleaseType} <= allowed("ReleaseType_ERN4")
    assert {p.ddex for p in ParentalWarning} <= allowed("ParentalWarningType")
    assert {r.ddex for r in ArtistRole} <= allowed("DisplayArtistRole")
    assert {r.ddex for r in ContributorRole} <= allowed("ContributorRole")
    assert {f.codec for f in AudioFormat} <= allowed("AudioCodecType")
    assert {f.container for f in AudioFormat if f.container} <= allowed("ContainerFormat")
    assert {f.value for f in ImageFormat} <= allowed("ImageCodecType")
    assert {h.value for h in HashAlgorithm} <= allowed("HashSumAlgorithmType")
    assert {m.value for m in CommercialModel} <= allowed("CommercialModelType_ERN")
    assert {u.value for u in UseType} <= allowed("UseType_ERN")
    assert {c.value for c in MessageControlType} <= allowed("MessageControlType")


def test_model_values_follow_the_catalog_choices() -> None:
    assert {t.value for t in ReleaseType} == set(choices.ReleaseType.values)
    assert {p.value for p in ParentalWarning} == set(choices.ParentalWarning.values)
    assert {r.value for r in ContributorRole} == set(choices.ContributorRole.values)


# --- built messages --------------------------------------------------------------------------


def test_single(schema_dir: Path) -> None:
    release = make_release((make_track(1, title="Golden Hour"),))
    root = assert_valid(build_new_release_message(message(release)), schema_dir)

    assert root.tag == "{http://ddex.net/xml/ern/43}NewReleaseMessage"
    assert root.get("ReleaseProfileVersionId") == "Audio"
    assert root.get("AvsVersionId") == AVS_VERSION_ID
    assert texts(root, "/ern:NewReleaseMessage/MessageHeader/MessageId/text()") == ["MSG-0001"]
    assert texts(root, "//MessageHeader/MessageThreadId/text()") == ["THREAD-0001"]
    assert texts(root, "//MessageSender/PartyId/text()") == [SENDER.dpid]
    assert texts(root, "//MessageRecipient/PartyId/text()") == [STORE.dpid]
    assert texts(root, "//MessageCreatedDateTime/text()") == ["2025-03-01T09:30:00+00:00"]
    assert texts(root, "//MessageControlType/text()") == ["LiveMessage"]

    assert texts(root, "//Release/ReleaseType/text()") == ["Single"]
    assert texts(root, "//Release/ReleaseId/ICPN/text()") == ["036000291452"]
    assert texts(root, "//Release/DisplayTitleText/text()") == ["Golden Hour"]
    assert texts(root, "//SoundRecording/DisplayTitleText/text()") == ["Golden Hour"]
    assert texts(root, "//SoundRecording//ISRC/text()") == [release.tracks[0].isrc]
    assert texts(root, "//SoundRecording/Duration/text()") == ["PT3M25S"]
    assert texts(root, "//Release/Duration/text()") == ["PT3M25S"]
    assert texts(root, "//Release/ReleaseDate/text()") == ["2025-04-18"]
    assert texts(root, "//Release/OriginalReleaseDate/text()") == ["2024-12-01"]
    assert texts(root, "//Release/DisplayArtistName/text()") == ["Nova Lane"]
    assert texts(
        root,
        "//Party[PartyReference=//Release/DisplayArtist/ArtistPartyReference]/PartyId/ISNI/text()",
    ) == ["0000000121707484"]
    assert texts(
        root, "//Party[PartyReference=//Release/ReleaseLabelReference]/PartyName/FullName/text()"
    ) == ["Northern Lights Records"]

    # Technical details: WAV is a container whose codec is PCM; the hash and size of the master.
    delivery = "//SoundRecording//DeliveryFile"
    assert texts(root, f"{delivery}/ContainerFormat/text()") == ["WAV"]
    assert texts(root, f"{delivery}/AudioCodecType/text()") == ["PCM"]
    assert texts(root, f"{delivery}/SamplingRate/text()") == ["44.1"]
    assert texts(root, f"{delivery}/BitsPerSample/text()") == ["24"]
    assert texts(root, f"{delivery}/File/URI/text()") == ["resources/01_01.wav"]
    assert texts(root, f"{delivery}/File/HashSum/Algorithm/text()") == ["MD5"]
    assert texts(root, f"{delivery}/File/HashSum/HashSumValue/text()") == [MD5]
    assert texts(root, "//Image/Type/text()") == ["FrontCoverImage"]
    assert texts(root, "//Image//File/HashSum/Algorithm/text()") == ["SHA-256"]
    assert texts(root, "//Image//File/HashSum/HashSumValue/text()") == [SHA256]
    assert texts(root, "//Image//ImageWidth/text()") == ["3000"]

    # One ResourceGroup, the track then the linked cover; one TrackRelease for the track.
    assert texts(
        root, "//Release/ResourceGroup/ResourceGroupContentItem/ReleaseResourceReference/text()"
    ) == ["A1"]
    assert texts(root, "//Release/ResourceGroup/LinkedReleaseResourceReference/text()") == ["A2"]
    assert texts(root, "//TrackRelease/ReleaseResourceReference/text()") == ["A1"]

    # Worldwide streaming and download deals from the release date, for R0 and the track.
    assert set(texts(root, "//DealTerms/TerritoryCode/text()")) == {"Worldwide"}
    assert set(texts(root, "//DealTerms/ValidityPeriod/StartDate/text()")) == {"2025-04-18"}
    assert texts(root, "//ReleaseDeal/DealReleaseReference/text()") == ["R0", "R1"]
    assert texts(root, "//ReleaseDeal[DealReleaseReference='R0']//CommercialModelType/text()") == [
        "SubscriptionModel",
        "AdvertisementSupportedModel",
        "PayAsYouGoModel",
    ]
    assert "PermanentDownload" in texts(root, "//UseType/text()")
    assert "OnDemandStream" in texts(root, "//UseType/text()")


def test_ep_with_featured_artist_and_songwriters(schema_dir: Path) -> None:
    release = ep_release()
    root = assert_valid(build_new_release_message(message(release)), schema_dir)

    assert texts(root, "//Release/ReleaseType/text()") == ["EP"]
    assert texts(root, "//Release/DisplayTitleText/text()") == ["Night Drive (Deluxe)"]
    assert texts(root, "//Release/DisplayTitle/SubTitle[@SubTitleType='Version']/text()") == [
        "Deluxe"
    ]
    assert texts(root, "//SoundRecording//ISRC/text()") == [t.isrc for t in release.tracks]
    assert texts(root, "//Release/ParentalWarningType/text()") == ["Explicit"]

    second = "//SoundRecording[ResourceReference='A2']"
    assert texts(root, f"{second}/DisplayArtistName/text()") == ["Nova Lane feat. Kit Ramos"]
    assert texts(root, f"{second}/DisplayArtist/DisplayArtistRole/text()") == [
        "MainArtist",
        "FeaturedArtist",
    ]
    guest_ref = texts(
        root,
        f"{second}/DisplayArtist[DisplayArtistRole='FeaturedArtist']/ArtistPartyReference/text()",
    )
    assert texts(root, f"//Party[PartyReference='{guest_ref[0]}']/PartyName/FullName/text()") == [
        "Kit Ramos"
    ]
    assert texts(root, f"{second}/Contributor/Role/text()") == [
        "Composer",
        "Lyricist",
        "StudioProducer",
        "Artist",
    ]
    guest_credit = f"{second}/Contributor[ContributorPartyReference='{guest_ref[0]}']"
    assert texts(root, f"{guest_credit}/HasMadeFeaturedContribution/text()") == ["true"]
    composer_ref = texts(
        root, f"{second}/Contributor[Role='Composer']/ContributorPartyReference/text()"
    )
    assert texts(
        root, f"//Party[PartyReference='{composer_ref[0]}']/PartyName/FullName/text()"
    ) == ["Ines Vidal"]
    # Each person is one Party however many tracks credit them.
    names = texts(root, "//PartyList/Party/PartyName/FullName/text()")
    assert sorted(names) == sorted(set(names))

    # Worldwide minus two territories: ERN allows only the excluded list in that case.
    for terms in root.xpath("//DealTerms"):
        assert texts(terms, "TerritoryCode/text()") == []
        assert texts(terms, "ExcludedTerritoryCode/text()") == ["CU", "KP"]
    assert texts(root, "//ReleaseDeal[2]/DealReleaseReference/text()") == ["R1", "R2", "R3", "R4"]
    assert texts(root, "//Release/Duration/text()") == ["PT13M40S"]


def test_album_with_two_discs(schema_dir: Path) -> None:
    disc_one = tuple(make_track(n, disc=1) for n in range(1, 4))
    disc_two = tuple(make_track(n, disc=2, duration_seconds=3725.5) for n in range(1, 3))
    # Out of order on purpose: the builder orders by disc and track.
    release = make_release(
        disc_two + disc_one,
        title="Two Rooms",
        release_type=ReleaseType.ALBUM,
        territories=Territories(include=("US", "CA", "GB", "DE")),
    )
    root = assert_valid(build_new_release_message(message(release)), schema_dir)

    groups = root.xpath("//Release/ResourceGroup/ResourceGroup")
    assert [g.get("ResourceGroupType") for g in groups] == ["Component", "Component"]
    assert [texts(g, "SequenceNumber/text()") for g in groups] == [["1"], ["2"]]
    assert texts(groups[0], "ResourceGroupContentItem/SequenceNumber/text()") == ["1", "2", "3"]
    assert texts(groups[1], "ResourceGroupContentItem/SequenceNumber/text()") == ["1", "2"]
    assert texts(groups[1], "ResourceGroupContentItem/ReleaseResourceReference/text()") == [
        "A4",
        "A5",
    ]
    assert texts(root, "//SoundRecording[ResourceReference='A4']//ISRC/text()") == [
        disc_two[0].isrc
    ]
    assert texts(root, "//SoundRecording[ResourceReference='A4']/Duration/text()") == ["PT1H2M5.5S"]
    assert texts(root, "//Release/ResourceGroup/LinkedReleaseResourceReference/text()") == ["A6"]
    assert len(root.xpath("//TrackRelease")) == 5
    assert texts(root, "//ReleaseDeal[1]/Deal[1]//TerritoryCode/text()") == ["US", "CA", "GB", "DE"]


def test_update_is_the_same_full_message_with_a_new_message_id(schema_dir: Path) -> None:
    release = ep_release()
    first = build_new_release_message(message(release))
    changed = replace(release, genre="Electronic")
    update = build_new_release_message(
        message(changed, kind=MessageKind.UPDATE, header=header("MSG-0002"))
    )
    root = assert_valid(update, schema_dir)

    assert texts(root, "//MessageId/text()") == ["MSG-0002"]
    assert texts(root, "//Release/Genre/GenreText/text()") == ["Electronic"]
    assert texts(root, "//Release/ReleaseId/ICPN/text()") == ["036000291452"]
    assert root.xpath("count(//DealList/ReleaseDeal)") == 2
    # Nothing but the id and the changed data differs: ERN 4.3 has no update flag.
    assert update.replace(b"MSG-0002", b"MSG-0001").replace(b"Electronic", b"Pop") == first


def test_takedown_has_no_deals(schema_dir: Path) -> None:
    release = ep_release()
    takedown = message(release, kind=MessageKind.TAKEDOWN, header=header("MSG-0003"))
    root = assert_valid(build_new_release_message(takedown), schema_dir)

    assert root.xpath("count(//DealList)") == 0
    assert root.xpath("count(//Deal)") == 0
    # The release is still fully identified, so the store knows what to take down.
    assert texts(root, "//Release/ReleaseId/ICPN/text()") == ["036000291452"]
    assert texts(root, "//SoundRecording//ISRC/text()") == [t.isrc for t in release.tracks]


def test_insert_without_deals_is_refused() -> None:
    release = make_release((make_track(1),))
    with pytest.raises(ValueError, match="takedown"):
        build_new_release_message(message(release, deals=()))


def test_test_message_with_pre_order(schema_dir: Path) -> None:
    release = make_release((make_track(1),), territories=Territories(include=("GB", "IE")))
    deals = standard_deals(release.release_date, pre_order_date=date(2025, 3, 21))
    built = message(release, header=header(control=MessageControlType.TEST), deals=deals)
    root = assert_valid(build_new_release_message(built), schema_dir)

    assert texts(root, "//MessageControlType/text()") == ["TestMessage"]
    pre_order = "//ReleaseDeal[DealReleaseReference='R0']/Deal[DealTerms/IsPreOrderDeal='true']"
    assert texts(root, f"{pre_order}//StartDate/text()") == ["2025-03-21"]
    assert texts(root, f"{pre_order}//EndDate/text()") == ["2025-04-17"]
    assert texts(root, f"{pre_order}//TerritoryCode/text()") == ["GB", "IE"]
    # Track releases cannot be pre-ordered on their own.
    assert root.xpath("count(//ReleaseDeal[DealReleaseReference='R1']//IsPreOrderDeal)") == 0
    assert texts(root, "//Release/ReleaseVisibilityReference/text()") == ["V1"]
    assert texts(root, "//ReleaseVisibility/ReleaseDisplayStartDateTime/text()") == [
        "2025-03-21T00:00:00+00:00"
    ]


def test_purge_release_message(schema_dir: Path) -> None:
    purge = PurgeReleaseMessageInput(
        header=header("MSG-0004"),
        icpn="036000291452",
        title="Night Drive",
        version="Deluxe",
        artist_names=("Nova Lane",),
    )
    root = assert_valid(build_purge_release_message(purge), schema_dir)
    assert root.tag == "{http://ddex.net/xml/ern/43}PurgeReleaseMessage"
    assert texts(root, "//PurgedRelease/ReleaseId/ICPN/text()") == ["036000291452"]
    assert texts(root, "//PurgedRelease/Contributor/PartyName/FullName/text()") == ["Nova Lane"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "PT0S"), (58, "PT58S"), (205, "PT3M25S"), (3600, "PT1H"), (263.583, "PT4M23.583S")],
)
def test_iso_duration(seconds: float, expected: str) -> None:
    assert iso_duration(seconds) == expected


# --- errors ----------------------------------------------------------------------------------


def test_invalid_territory_gives_readable_errors(schema_dir: Path) -> None:
    release = make_release((make_track(1),), territories=Territories(include=("XX",)))
    errors = validate(build_new_release_message(message(release)), schema_dir)
    assert errors
    assert all(error.startswith("line ") for error in errors)
    assert any("TerritoryCode" in error and "'XX'" in error for error in errors)
    # The 500 allowed codes are not dumped into the message.
    assert all(len(error) < 400 for error in errors), errors


def test_missing_required_element_is_reported(schema_dir: Path) -> None:
    root = parse(build_new_release_message(message(make_release((make_track(1),)))))
    message_id = root.find("MessageHeader/MessageId")
    message_id.getparent().remove(message_id)
    errors = validate(etree.tostring(root), schema_dir)
    assert len(errors) == 1
    assert "MessageSender" in errors[0] and "MessageId" in errors[0]


def test_dangling_and_duplicate_references_are_reported(schema_dir: Path) -> None:
    # libxml2 does not enforce xs:ID/xs:IDREF on element content; validate() checks them itself.
    root = parse(build_new_release_message(message(ep_release())))
    root.find(".//TrackRelease/ReleaseResourceReference").text = "A99"
    root.findall(".//PartyList/Party/PartyReference")[1].text = "P1"
    errors = validate(etree.tostring(root, pretty_print=True), schema_dir)
    assert any("ReleaseResourceReference" in e and "'A99' refers to nothing" in e for e in errors)
    assert any("PartyReference" in e and "duplicate anchor 'P1'" in e for e in errors), errors


def test_malformed_xml_is_an_error_not_an_exception(schema_dir: Path) -> None:
    assert validate(b"<ern:NewReleaseMessage", schema_dir)[0].startswith("line 1: not well-formed")


def test_wrong_schema_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemaNotFound, match=str(tmp_path)) as raised:
        validate(b"<x/>", tmp_path)
    assert "DDEX_SCHEMA_DIR" in str(raised.value)


def test_naive_datetime_is_refused() -> None:
    naive = replace(header(), created_at=datetime(2025, 3, 1, 9, 30))
    with pytest.raises(ValueError, match="time zone"):
        build_new_release_message(message(make_release((make_track(1),)), header=naive))


def test_deal_territory_override(schema_dir: Path) -> None:
    release = make_release((make_track(1),))
    deal = Deal(
        CommercialModel.SUBSCRIPTION,
        (UseType.ON_DEMAND_STREAM,),
        RELEASE_DATE,
        territories=Territories(include=("JP",)),
    )
    root = assert_valid(build_new_release_message(message(release, deals=(deal,))), schema_dir)
    assert set(texts(root, "//DealTerms/TerritoryCode/text()")) == {"JP"}
