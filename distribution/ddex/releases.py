"""ReleaseList: the main Release (R0) and one TrackRelease per track (R1..Rn), as in 1_Audio.

Discs: ern:Release holds exactly one ResourceGroup, so a multi-disc release nests one
ResourceGroup per disc (ResourceGroupType="Component", as sample 3_MixedMedia does for its two
carriers) with tracks numbered within their disc. A single-disc release keeps the flat group of
1_Audio. Either way the cover is linked from the outer group (LinkedReleaseResourceReference).
"""

from __future__ import annotations

from itertools import groupby

from distribution.ddex.common import Element, References, iso_date, iso_duration, sub
from distribution.ddex.model import WORLDWIDE, Release, ReleaseType, Track
from distribution.ddex.resources import add_copyright_line, add_display_artists, add_titles


def add_release_list(
    parent: Element, release: Release, refs: References, *, with_visibility: bool
) -> None:
    """`with_visibility`: the DealList carries a ReleaseVisibility the release must point to."""
    release_list = sub(parent, "ReleaseList")
    _add_main_release(release_list, release, refs, with_visibility=with_visibility)
    for index, track in enumerate(refs.tracks, start=1):
        _add_track_release(release_list, release, track, index, refs)


def _add_main_release(
    parent: Element, release: Release, refs: References, *, with_visibility: bool
) -> None:
    element = sub(parent, "Release")
    sub(element, "ReleaseReference", refs.MAIN_RELEASE)
    sub(element, "ReleaseType", release.release_type.ddex)
    sub(sub(element, "ReleaseId"), "ICPN", release.icpn)
    add_titles(element, release.title, release.version)
    add_display_artists(element, release.display_artists, release.display_artist_name, refs)
    sub(
        element,
        "ReleaseLabelReference",
        refs.label(release.label_name),
        ApplicableTerritoryCode=WORLDWIDE,
    )
    add_copyright_line(element, "PLine", release.p_line)
    add_copyright_line(element, "CLine", release.c_line)
    sub(element, "Duration", iso_duration(sum(t.duration_seconds for t in refs.tracks)))
    _add_genre(element, release.genre, release.subgenre)
    sub(element, "ReleaseDate", iso_date(release.release_date), ApplicableTerritoryCode=WORLDWIDE)
    if release.original_release_date is not None:
        sub(
            element,
            "OriginalReleaseDate",
            iso_date(release.original_release_date),
            ApplicableTerritoryCode=WORLDWIDE,
        )
    if with_visibility:
        sub(element, "ReleaseVisibilityReference", refs.VISIBILITY)
    sub(element, "ParentalWarningType", release.parental_warning.ddex)
    if release.release_type == ReleaseType.COMPILATION:
        sub(element, "IsMultiArtistCompilation", "true")
    _add_resource_group(element, refs)


def _add_resource_group(parent: Element, refs: References) -> None:
    group = sub(parent, "ResourceGroup")
    indexed = list(enumerate(refs.tracks, start=1))
    discs = [
        (disc, list(items))
        for disc, items in groupby(indexed, key=lambda pair: pair[1].disc_number)
    ]
    if len(discs) == 1:
        sub(group, "SequenceNumber", 1)
        _add_items(group, discs[0][1], refs)
    else:
        for disc, items in discs:
            component = sub(group, "ResourceGroup", ResourceGroupType="Component")
            sub(component, "SequenceNumber", disc)
            _add_items(component, items, refs)
    sub(group, "LinkedReleaseResourceReference", refs.resource(refs.cover_index))


def _add_items(group: Element, items: list[tuple[int, Track]], refs: References) -> None:
    for index, track in items:
        item = sub(group, "ResourceGroupContentItem")
        sub(item, "SequenceNumber", track.track_number)
        sub(item, "ReleaseResourceReference", refs.resource(index))


def _add_track_release(
    parent: Element, release: Release, track: Track, index: int, refs: References
) -> None:
    element = sub(parent, "TrackRelease")
    sub(element, "ReleaseReference", refs.track_release(index))
    # A TrackRelease has no public id of its own (ReleaseId has no ISRC): like 1_Audio, a
    # ProprietaryId in the sender's namespace built from the UPC and the ISRC.
    sub(
        sub(element, "ReleaseId"),
        "ProprietaryId",
        f"{release.icpn}_{track.isrc}",
        Namespace=refs.sender_dpid,
    )
    sub(element, "ReleaseResourceReference", refs.resource(index))
    sub(
        element,
        "ReleaseLabelReference",
        refs.label(release.label_name),
        ApplicableTerritoryCode=WORLDWIDE,
    )
    _add_genre(element, track.genre or release.genre, None if track.genre else release.subgenre)


def _add_genre(parent: Element, genre: str, subgenre: str | None) -> None:
    element = sub(parent, "Genre", ApplicableTerritoryCode=WORLDWIDE)
    sub(element, "GenreText", genre)
    if subgenre:
        sub(element, "SubGenre", subgenre)
