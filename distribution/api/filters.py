"""Query filters for catalog lists (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from distribution.choices import ReleaseStatus, ReleaseType
from distribution.models import Artist, Release, ReleaseContributor, Track, TrackContributor


class ReleaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReleaseStatus.choices)
    release_type = django_filters.ChoiceFilter(choices=ReleaseType.choices)
    upc = django_filters.CharFilter()
    isrc = django_filters.CharFilter(
        method="filter_isrc", help_text="Releases with a track of this ISRC."
    )
    artist = django_filters.UUIDFilter(method="filter_artist", help_text="Credited artist id.")
    label = django_filters.UUIDFilter(field_name="label_id")
    release_date = django_filters.DateFromToRangeFilter(
        help_text="Use release_date_after and/or release_date_before (YYYY-MM-DD)."
    )
    q = django_filters.CharFilter(method="filter_text", help_text="Search in title and version.")

    class Meta:
        model = Release
        fields = ["status", "release_type", "upc", "label"]

    # Exists() keeps one row per release however many tracks or credits match.
    def filter_isrc(self, queryset: QuerySet[Release], name: str, value: str) -> QuerySet[Release]:
        tracks = Track.objects.filter(release_id=OuterRef("pk"), isrc=value.upper())
        return queryset.filter(Exists(tracks))

    def filter_artist(
        self, queryset: QuerySet[Release], name: str, value: Any
    ) -> QuerySet[Release]:
        on_release = ReleaseContributor.objects.filter(release_id=OuterRef("pk"), artist_id=value)
        on_track = TrackContributor.objects.filter(
            track__release_id=OuterRef("pk"), artist_id=value
        )
        return queryset.filter(Exists(on_release) | Exists(on_track))

    def filter_text(self, queryset: QuerySet[Release], name: str, value: str) -> QuerySet[Release]:
        return queryset.filter(Q(title__icontains=value) | Q(version__icontains=value))


class TrackFilter(django_filters.FilterSet):
    release = django_filters.UUIDFilter(field_name="release_id")
    isrc = django_filters.CharFilter(method="filter_isrc")
    artist = django_filters.UUIDFilter(method="filter_artist", help_text="Credited artist id.")
    q = django_filters.CharFilter(method="filter_text", help_text="Search in title and version.")

    class Meta:
        model = Track
        fields = ["release"]

    def filter_isrc(self, queryset: QuerySet[Track], name: str, value: str) -> QuerySet[Track]:
        return queryset.filter(isrc=value.upper())

    def filter_artist(self, queryset: QuerySet[Track], name: str, value: Any) -> QuerySet[Track]:
        return queryset.filter(
            Exists(TrackContributor.objects.filter(track_id=OuterRef("pk"), artist_id=value))
        )

    def filter_text(self, queryset: QuerySet[Track], name: str, value: str) -> QuerySet[Track]:
        return queryset.filter(Q(title__icontains=value) | Q(version__icontains=value))


class ArtistFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    isni = django_filters.CharFilter()

    class Meta:
        model = Artist
        fields = ["isni"]
