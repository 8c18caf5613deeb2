"""ResourceList: one SoundRecording per track and the front cover Image.

Element order follows the xs:sequence of ern:SoundRecording / ern:Image in the 4.3 schema; the
shape (edition with ISRC, P line and technical details; a Worldwide DisplayTitle; display
artists then contributors) follows the official samples 1_Audio and 4_SimpleAudioSingle.
"""

from __future__ import annotations

from decimal import Decimal

from distribution.ddex.common import (
    Element,
    References,
    display_name,
    iso_duration,
    kilohertz,
    sub,
)
from distribution.ddex.model import (
    WORLDWIDE,
    ArtistRole,
    ContributorRole,
    CopyrightLine,
    CoverImage,
    DisplayArtist,
    FileHash,
    Release,
    Track,
)


def add_resource_list(parent: Element, release: Release, refs: References) -> None:
    resource_list = sub(parent, "ResourceList")
    for index, track in enumerate(refs.tracks, start=1):
        _add_sound_recording(resource_list, release, track, index, refs)
    _add_cover(resource_list, release, refs)


def _add_sound_recording(
    parent: Element, release: Release, track: Track, index: int, refs: References
) -> None:
    recording = sub(parent, "SoundRecording")
    sub(recording, "ResourceReference", refs.resource(index))
    sub(recording, "Type", "MusicalWorkSoundRecording")

    edition = sub(recording, "SoundRecordingEdition")
    sub(sub(edition, "ResourceId"), "ISRC", track.isrc)
    add_copyright_line(edition, "PLine", track.p_line or release.p_line)
    details = sub(edition, "TechnicalDetails")
    sub(details, "TechnicalResourceDetailsReference", refs.technical(index))
    audio = track.audio
    delivery = sub(details, "DeliveryFile")
    sub(delivery, "Type", "AudioFile")
    if audio.format.container:
        sub(delivery, "ContainerFormat", audio.format.container)
    sub(delivery, "AudioCodecType", audio.format.codec)
    sub(delivery, "NumberOfChannels", audio.channels)
    sub(delivery, "SamplingRate", kilohertz(audio.sample_rate_hz), UnitOfMeasure="kHz")
    sub(delivery, "BitsPerSample", audio.bits_per_sample)
    _add_file(delivery, audio.file_name, audio.hash, audio.size_bytes)
    if track.preview_start_seconds is not None:
        clip = sub(details, "ClipDetails")
        sub(clip, "TechnicalResourceDetailsReference", f"{refs.technical(index)}C")
        sub(clip, "ClipType", "Preview")
        sub(sub(clip, "Timing"), "StartPoint", _decimal(track.preview_start_seconds))
        # Instructive: the store should use this start point, not merely be told about it.
        sub(clip, "ExpressionType", "Instructive")

    add_titles(recording, track.title, track.version)
    add_display_artists(recording, track.display_artists, track.display_artist_name, refs)
    for sequence, contributor in enumerate(track.contributors, start=1):
        element = sub(recording, "Contributor", SequenceNumber=sequence)
        sub(element, "ContributorPartyReference", refs.artist(contributor.party))
        sub(element, "Role", contributor.role.ddex)
        if contributor.role == ContributorRole.FEATURED_ARTIST:
            sub(element, "HasMadeFeaturedContribution", "true")
    sub(recording, "Duration", iso_duration(track.duration_seconds))
    sub(recording, "ParentalWarningType", track.parental_warning.ddex)
    if track.language:
        sub(recording, "LanguageOfPerformance", track.language)


def _add_cover(parent: Element, release: Release, refs: References) -> None:
    cover: CoverImage = release.cover
    index = refs.cover_index
    image = sub(parent, "Image")
    sub(image, "ResourceReference", refs.resource(index))
    sub(image, "Type", "FrontCoverImage")
    # An Image has no public identifier: ERN requires a ProprietaryId in the sender's namespace.
    resource_id = sub(image, "ResourceId")
    sub(resource_id, "ProprietaryId", f"{release.icpn}_FrontCoverImage", Namespace=refs.sender_dpid)
    details = sub(image, "TechnicalDetails")
    sub(details, "TechnicalResourceDetailsReference", refs.technical(index))
    sub(details, "ImageCodecType", cover.format.value)
    sub(details, "ImageHeight", cover.height, UnitOfMeasure="Pixel")
    sub(details, "ImageWidth", cover.width, UnitOfMeasure="Pixel")
    _add_file(details, cover.file_name, cover.hash, cover.size_bytes)


def _add_file(parent: Element, uri: str, file_hash: FileHash | None, size_bytes: int) -> None:
    file_element = sub(parent, "File")
    sub(file_element, "URI", uri)
    if file_hash is not None:
        hash_sum = sub(file_element, "HashSum")
        sub(hash_sum, "Algorithm", file_hash.algorithm.value)
        sub(hash_sum, "HashSumValue", file_hash.value)
    sub(file_element, "FileSize", size_bytes)


def add_copyright_line(parent: Element, tag: str, line: CopyrightLine) -> None:
    """PLine or CLine: optional Year, then PLineText / CLineText."""
    element = sub(parent, tag)
    if line.year is not None:
        sub(element, "Year", f"{line.year:04d}")
    sub(element, f"{tag}Text", line.text)


def add_titles(parent: Element, title: str, version: str) -> None:
    """DisplayTitleText as shown to consumers, DisplayTitle with the version as a SubTitle."""
    sub(parent, "DisplayTitleText", f"{title} ({version})" if version else title)
    display_title = sub(parent, "DisplayTitle", ApplicableTerritoryCode=WORLDWIDE, IsDefault=True)
    sub(display_title, "TitleText", title)
    if version:
        sub(display_title, "SubTitle", version, SubTitleType="Version")


def add_display_artists(
    parent: Element,
    artists: tuple[DisplayArtist, ...],
    name_override: str | None,
    refs: References,
) -> None:
    if not artists:
        raise ValueError("A release and each track need at least one display artist.")
    name = name_override or display_name(
        (artist.party.name, artist.role == ArtistRole.FEATURED_ARTIST) for artist in artists
    )
    sub(parent, "DisplayArtistName", name, ApplicableTerritoryCode=WORLDWIDE)
    for sequence, artist in enumerate(artists, start=1):
        element = sub(parent, "DisplayArtist", SequenceNumber=sequence)
        sub(element, "ArtistPartyReference", refs.artist(artist.party))
        sub(element, "DisplayArtistRole", artist.role.ddex)


def _decimal(seconds: float) -> str:
    return format(Decimal(str(seconds)).quantize(Decimal("0.001")).normalize(), "f")
