"""Stores, deliveries, and the release actions that send, preview and take down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Capability
from distribution.api.serializers import (
    DeliverySerializer,
    PreviewSerializer,
    ReleaseStoresSerializer,
    StoreSerializer,
)
from distribution.choices import DeliveryKind, DeliveryStatus
from distribution.models import Delivery, ReleaseStore, Store
from distribution.services import delivery as delivery_services
from enterprise_suite.api.views import ApiViewSet
from enterprise_suite.errors import NotFound, ValidationFailed
from enterprise_suite.selectors import get_or_not_found

if TYPE_CHECKING:
    _ViewSetBase = ApiViewSet
else:
    _ViewSetBase = object


class StoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The stores releases can be delivered to (read-only; operators manage them)."""

    queryset = Store.objects.none()
    serializer_class = StoreSerializer
    lookup_field = "code"
    read_capability = Capability.CATALOG_READ
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Store]:
        return Store.objects.all()


class DeliveryFilter(django_filters.FilterSet):
    release = django_filters.UUIDFilter(field_name="release_id")
    store = django_filters.CharFilter(field_name="store__code")
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    kind = django_filters.ChoiceFilter(choices=DeliveryKind.choices)

    class Meta:
        model = Delivery
        fields = ["release", "store", "status", "kind"]


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Deliveries of the organization's releases, with every attempt."""

    queryset = Delivery.objects.none()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at", "updated_at", "status"]
    ordering = ["-created_at"]
    read_capability = Capability.CATALOG_READ
    write_capability = Capability.CATALOG_WRITE

    def get_queryset(self) -> QuerySet[Delivery]:
        return (
            Delivery.objects.filter(organization=self.organization)
            .select_related("store")
            .prefetch_related("attempts")
        )

    def get_object(self) -> Delivery:
        return get_or_not_found(self.get_queryset(), self.kwargs["pk"], "delivery")

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Send a failed delivery again (a rejected one goes out as a new delivery)."""
        delivery = delivery_services.delivery_retry(delivery=self.get_object())
        return Response(DeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data)


class ReleaseDeliveryMixin(_ViewSetBase):
    """stores, preview and takedown on a release."""

    def _release(self, pk: str | None) -> Any:
        raise NotImplementedError

    @extend_schema(methods=["GET"], request=None, responses=ReleaseStoresSerializer)
    @extend_schema(
        methods=["PUT"], request=ReleaseStoresSerializer, responses=ReleaseStoresSerializer
    )
    @action(detail=True, methods=["get", "put"])
    def stores(self, request: Request, pk: str | None = None) -> Response:
        """The stores this release goes to when approved."""
        release = self._release(pk)
        if request.method == "PUT":
            serializer = ReleaseStoresSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            delivery_services.release_set_stores(
                release=release, codes=serializer.validated_data["stores"]
            )
        codes = ReleaseStore.objects.filter(release=release).values_list("store__code", flat=True)
        return Response({"stores": sorted(codes)})

    @extend_schema(
        request=None,
        responses=PreviewSerializer,
        parameters=[
            OpenApiParameter("store", OpenApiTypes.STR, required=True, description="Store code")
        ],
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """The exact ERN 4.3 message the store would receive, validated against the schema."""
        release = self._release(pk)
        code = request.query_params.get("store", "")
        if not code:
            raise ValidationFailed("Name a store: ?store=<code>.", details={"store": ["Required."]})
        store = Store.objects.filter(code=code).first()
        if store is None:
            raise NotFound(f"No store '{code}'.")
        xml, errors = delivery_services.release_preview(release=release, store=store)
        return Response({"store": code, "valid": not errors, "schema_errors": errors, "xml": xml})

    @extend_schema(request=None, responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        """Send the release's current metadata again (an ERN update) to every store it went to."""
        deliveries = delivery_services.release_redeliver(release=self._release(pk))
        return Response(DeliverySerializer(deliveries, many=True).data)

    @extend_schema(request=None, responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["post"])
    def takedown(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw the release from every store it was delivered to (messages without deals)."""
        deliveries = delivery_services.release_takedown(
            release=self._release(pk), actor=self.membership.user
        )
        return Response(DeliverySerializer(deliveries, many=True).data)
