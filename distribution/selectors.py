"""Catalog reads, always scoped to one organization.

Release and track payloads are assembled from `.values()` rows in a fixed number of queries
(one per level of nesting) whatever the page size: release lists are the hottest read of the
API, and building them through nested model serializers costs several times as much.
The shapes are documented by the read serializers in `distribution/api/serializers.py`, and the
schema tests hold them to it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Organization
from distribution.models import Artist, Label, Release, ReleaseContributor, Track, TrackContributor
from enterprise_suite.errors import NotFound
from enterprise_suite.selectors import get_or_not_found

Payload = dict[str, Any]

_RELEASE_FIELDS = (
    "id",
    "title",
    "version",
    "release_type",
    "status",
    "upc",
    "label_id",
    "label__name",
    "primary_genre",
    "language",
    "parental_warning",
    "release_date",
    "preorder_date",
    "original_release_date",
    "p_line",
    "c_line",
    "territories_include",
    "territories_exclude",
    "submitted_at",
    "reviewed_at",
    "review_note",
    "created_at",
    "updated_at",
)
_TRACK_FIELDS = (
    "id",
    "release_id",
    "disc_number",
    "track_number",
    "title",
    "version",
    "isrc",
    "duration_seconds",
    "parental_warning",
    "language",
    "preview_start_seconds",
    "created_at",
    "updated_at",
)


def label_list(*, organization: Organization) -> QuerySet[Label]:
    return Label.objects.filter(organization=organization)


def label_get(*, organization: Organization, label_id: uuid.UUID | str) -> Label:
    return get_or_not_found(label_list(organization=organization), label_id, "label")


def artist_list(*, organization: Organization) -> QuerySet[Artist]:
    return Artist.objects.filter(organization=organization)


def artist_get(*, organization: Organization, artist_id: uuid.UUID | str) -> Artist:
    return get_or_not_found(artist_list(organization=organization), artist_id, "artist")


def release_list(*, organization: Organization) -> QuerySet[Release]:
    return Release.objects.filter(organization=organization)


def release_get(*, organization: Organization, release_id: uuid.UUID | str) -> Release:
    return get_or_not_found(release_list(organization=organization), release_id, "release")


def track_list(*, organization: Organization) -> QuerySet[Track]:
    return Track.objects.filter(organization=organization)


def track_get(*, organization: Organization, track_id: uuid.UUID | str) -> Track:
    return get_or_not_found(
        track_list(organization=organization).select_related("release"), track_id, "track"
    )


def _contributors_by(rows: Iterable[tuple[Any, ...]]) -> dict[Any, list[Payload]]:
    grouped: dict[Any, list[Payload]] = defaultdict(list)
    for owner_id, artist_id, artist_name, role, sequence in rows:
        grouped[owner_id].append(
            {"artist_id": artist_id, "artist_name": artist_name, "role": role, "sequence": sequence}
        )
    return grouped


def track_payloads(*, track_filter: Q) -> list[Payload]:
    """Tracks matching the filter, in disc/track order, each with its contributors."""
    tracks = list(
        Track.objects.filter(track_filter)
        .order_by("release_id", "disc_number", "track_number")
        .values(*_TRACK_FIELDS)
    )
    contributors = _contributors_by(
        TrackContributor.objects.filter(track_id__in=[t["id"] for t in tracks])
        .order_by("sequence", "role", "id")
        .values_list("track_id", "artist_id", "artist__name", "role", "sequence")
    )
    for track in tracks:
        track["contributors"] = contributors.get(track["id"], [])
    return tracks


def release_document(*, organization: Organization, release_id: uuid.UUID | str) -> Payload:
    """One release's full document, or NotFound if it is not this organization's."""
    try:
        pk = uuid.UUID(str(release_id))
    except ValueError:
        raise NotFound("No such release.") from None
    documents = release_payloads(release_ids=[pk], organization=organization)
    if not documents:
        raise NotFound("No such release.")
    return documents[0]


def release_payloads(
    *, release_ids: Sequence[uuid.UUID], organization: Organization | None = None
) -> list[Payload]:
    """Full release documents (label, contributors, tracks) in the order of `release_ids`,
    optionally restricted to one organization's releases."""
    if not release_ids:
        return []
    releases: dict[Any, Payload] = {}
    rows = Release.objects.filter(pk__in=release_ids)
    if organization is not None:
        rows = rows.filter(organization=organization)
    for row in rows.values(*_RELEASE_FIELDS):
        label_id, label_name = row.pop("label_id"), row.pop("label__name")
        row["label"] = {"id": label_id, "name": label_name} if label_id else None
        row["contributors"] = []
        row["tracks"] = []
        releases[row["id"]] = row
    release_ids = [pk for pk in release_ids if pk in releases]
    if not release_ids:
        return []
    contributors = _contributors_by(
        ReleaseContributor.objects.filter(release_id__in=release_ids)
        .order_by("sequence", "role", "id")
        .values_list("release_id", "artist_id", "artist__name", "role", "sequence")
    )
    for release_id, credits in contributors.items():
        releases[release_id]["contributors"] = credits
    for track in track_payloads(track_filter=Q(release_id__in=release_ids)):
        releases[track["release_id"]]["tracks"].append(track)
    return [releases[pk] for pk in release_ids if pk in releases]
