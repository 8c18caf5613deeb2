"""`/api/v1/webhook-endpoints/` and `/api/v1/webhook-deliveries/` (thin: parse, call a service,
render)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Capability
from enterprise_suite.api.views import ApiViewSet
from realtime import webhooks
from realtime.models import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from realtime.selectors import event_message


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    url = serializers.URLField(max_length=2000)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        help_text="Event types to receive, e.g. delivery.status_changed; empty means all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "event_types",
            "description",
            "is_active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_...). Shown only in this response; store it now.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Where the organization's events are posted, signed per the Standard Webhooks spec."""

    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer
    read_capability = Capability.ORGANIZATION_MANAGE
    write_capability = Capability.ORGANIZATION_MANAGE
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return webhooks.webhook_endpoint_list(organization_id=self.organization.pk)

    def _validated(self, partial: bool = False) -> dict[str, Any]:
        serializer = WebhookEndpointSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        request=WebhookEndpointSerializer, responses={201: WebhookEndpointWithSecretSerializer}
    )
    def create(self, request: Request) -> Response:
        endpoint = webhooks.webhook_endpoint_create(
            organization_id=self.organization.pk, **self._validated()
        )
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        endpoint = webhooks.webhook_endpoint_update(
            endpoint=self.get_object(), **self._validated(partial=True)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        """Deleted endpoints keep their delivery log (`webhook-deliveries`)."""
        webhooks.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(request=None, responses={200: WebhookEndpointWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """Replace the signing secret; the new one is shown only in this response."""
        endpoint = webhooks.webhook_endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    class Meta:
        model = WebhookAttempt
        fields = [
            "id",
            "started_at",
            "succeeded",
            "status_code",
            "latency_ms",
            "response_body",
            "error",
        ]


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    webhook_id = serializers.CharField(source="message_id", read_only=True)
    event = serializers.SerializerMethodField()
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "endpoint",
            "event",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "last_error",
            "created_at",
            "attempts",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "description": "The event as sent: id, type, occurred_at, data.",
            "additionalProperties": True,
        }
    )
    def get_event(self, delivery: WebhookDelivery) -> dict[str, Any]:
        return event_message(delivery.event)


class WebhookDeliveryFilter(django_filters.FilterSet):
    endpoint = django_filters.UUIDFilter(field_name="endpoint_id")
    status = django_filters.ChoiceFilter(choices=WebhookDeliveryStatus.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status"]


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Every event sent (or waiting to be sent) to an endpoint, with each attempt's outcome."""

    queryset = WebhookDelivery.objects.none()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    read_capability = Capability.CATALOG_READ
    write_capability = Capability.ORGANIZATION_MANAGE
    filter_backends: list[Any] = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return webhooks.webhook_delivery_list(organization_id=self.organization.pk)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Send a finished (succeeded or failed) delivery again, with the same webhook-id."""
        delivery = webhooks.webhook_delivery_replay(delivery=self.get_object())
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
