"""Catalog endpoints: labels, artists, releases, tracks (thin: parse, call a service, render)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Capability
from distribution import selectors, services
from distribution.api.delivery_views import ReleaseDeliveryMixin
from distribution.api.filters import ArtistFilter, ReleaseFilter, TrackFilter
from distribution.api.serializers import (
    ArtistSerializer,
    LabelSerializer,
    ReleaseReadSerializer,
    ReleaseWriteSerializer,
    TrackReadSerializer,
    TrackUpdateSerializer,
    TrackWriteSerializer,
)
from distribution.api.workflow import ReleaseWorkflowMixin, TrackAudioMixin
from distribution.models import Artist, Label, Release, Track
from enterprise_suite.api.views import ApiViewSet


class CatalogViewSet(ApiViewSet):
    read_capability = Capability.CATALOG_READ
    write_capability = Capability.CATALOG_WRITE

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "organization": self.organization}


class SimpleCatalogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogViewSet):
    """Labels and artists: model serializers in and out, writes through services."""

    def create(self, request: Request) -> Response:
        instance = self.create_object(**self.validated(self.get_serializer_class()))
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        instance = self.get_object()
        data = self.validated(self.get_serializer_class(), partial=True)
        instance = self.update_object(instance, **data)
        return Response(self.get_serializer(instance).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        self.delete_object(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def create_object(self, **data: Any) -> Model:
        raise NotImplementedError

    def update_object(self, instance: Any, **data: Any) -> Model:
        raise NotImplementedError

    def delete_object(self, instance: Any) -> None:
        raise NotImplementedError


class LabelViewSet(SimpleCatalogViewSet):
    """Labels and imprints, with their default (P) and (C) lines."""

    queryset = Label.objects.none()
    serializer_class = LabelSerializer
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Label]:
        return selectors.label_list(organization=self.organization)

    def get_object(self) -> Label:
        return selectors.label_get(organization=self.organization, label_id=self.kwargs["pk"])

    def create_object(self, **data: Any) -> Label:
        return services.label_create(organization=self.organization, **data)

    def update_object(self, instance: Label, **data: Any) -> Label:
        return services.label_update(label=instance, **data)

    def delete_object(self, instance: Label) -> None:
        services.label_delete(label=instance)


class ArtistViewSet(SimpleCatalogViewSet):
    """Artists, with ISNI and per-store artist ids."""

    queryset = Artist.objects.none()
    serializer_class = ArtistSerializer
    filterset_class = ArtistFilter
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Artist]:
        return selectors.artist_list(organization=self.organization)

    def get_object(self) -> Artist:
        return selectors.artist_get(organization=self.organization, artist_id=self.kwargs["pk"])

    def create_object(self, **data: Any) -> Artist:
        return services.artist_create(organization=self.organization, **data)

    def update_object(self, instance: Artist, **data: Any) -> Artist:
        return services.artist_update(artist=instance, **data)

    def delete_object(self, instance: Artist) -> None:
        services.artist_delete(artist=instance)


@extend_schema_view(
    create=extend_schema(request=ReleaseWriteSerializer, responses={201: ReleaseReadSerializer}),
    partial_update=extend_schema(request=ReleaseWriteSerializer, responses=ReleaseReadSerializer),
)
class ReleaseViewSet(ReleaseWorkflowMixin, ReleaseDeliveryMixin, CatalogViewSet):
    """Releases with their label, contributors and tracks. Editable while draft."""

    queryset = Release.objects.none()
    serializer_class = ReleaseReadSerializer
    filterset_class = ReleaseFilter
    ordering_fields = ["title", "release_date", "created_at", "updated_at", "upc"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet[Release]:
        return selectors.release_list(organization=self.organization)

    def _document(self, release_id: Any) -> dict[str, Any]:
        return selectors.release_payloads(release_ids=[release_id])[0]

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        # The id breaks ties so pages never shift between requests.
        queryset = queryset.order_by(*queryset.query.order_by, "id")
        page = self.paginate_queryset(queryset.values_list("id", flat=True))
        assert page is not None
        return self.get_paginated_response(selectors.release_payloads(release_ids=list(page)))

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(
            selectors.release_document(organization=self.organization, release_id=pk or "")
        )

    def create(self, request: Request) -> Response:
        release = services.release_create(
            organization=self.organization, **self.validated(ReleaseWriteSerializer)
        )
        return Response(self._document(release.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        release = selectors.release_get(organization=self.organization, release_id=pk or "")
        data = self.validated(ReleaseWriteSerializer, partial=True)
        services.release_update(release=release, actor=self.membership.user, **data)
        return Response(self._document(release.pk))

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        release = selectors.release_get(organization=self.organization, release_id=pk or "")
        services.release_delete(release=release, actor=self.membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(request=TrackWriteSerializer, responses={201: TrackReadSerializer}),
    partial_update=extend_schema(request=TrackUpdateSerializer, responses=TrackReadSerializer),
)
class TrackViewSet(TrackAudioMixin, CatalogViewSet):
    """Tracks (sound recordings) on releases. Editable while their release is a draft."""

    queryset = Track.objects.none()
    serializer_class = TrackReadSerializer
    filterset_class = TrackFilter
    ordering_fields = ["title", "isrc", "created_at", "track_number"]
    ordering = ["release_id", "disc_number", "track_number"]

    def get_queryset(self) -> QuerySet[Track]:
        return selectors.track_list(organization=self.organization)

    def _document(self, track_id: Any) -> dict[str, Any]:
        return selectors.track_payloads(track_filter=Q(pk=track_id))[0]

    def list(self, request: Request) -> Response:
        ids = self.filter_queryset(self.get_queryset()).values_list("id", flat=True)
        page = self.paginate_queryset(ids)
        assert page is not None
        by_id = {t["id"]: t for t in selectors.track_payloads(track_filter=Q(pk__in=list(page)))}
        return self.get_paginated_response([by_id[pk] for pk in page])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        track = selectors.track_get(organization=self.organization, track_id=pk or "")
        return Response(self._document(track.pk))

    def create(self, request: Request) -> Response:
        data = self.validated(TrackWriteSerializer)
        track = services.track_create(actor=self.membership.user, **data)
        return Response(self._document(track.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        track = selectors.track_get(organization=self.organization, track_id=pk or "")
        services.track_update(
            track=track,
            actor=self.membership.user,
            **self.validated(TrackUpdateSerializer, partial=True),
        )
        return Response(self._document(track.pk))

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        track = selectors.track_get(organization=self.organization, track_id=pk or "")
        services.track_delete(track=track, actor=self.membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
