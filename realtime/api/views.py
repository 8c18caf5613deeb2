"""`GET /api/v1/events/`: the organization's events, oldest first, with a cursor."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import mixins, pagination, serializers

from accounts.roles import Capability
from enterprise_suite.api.views import ApiViewSet
from realtime.models import Event
from realtime.selectors import event_list, event_message


class EventFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(help_text="Event type, e.g. delivery.status_changed.")
    release = django_filters.UUIDFilter(field_name="release_id")
    since = django_filters.NumberFilter(
        field_name="id", lookup_expr="gt", help_text="Only events after this event id."
    )

    class Meta:
        model = Event
        fields = ["type", "release", "since"]


class EventSerializer(serializers.Serializer[Event]):
    id = serializers.IntegerField()
    type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The change, with subject_type, subject_id, release_id."
    )

    def to_representation(self, instance: Event) -> dict[str, Any]:
        return event_message(instance)


class EventCursorPagination(pagination.CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 500


class EventViewSet(mixins.ListModelMixin, ApiViewSet):
    """Every status change, in order; the same messages the WebSocket stream sends."""

    queryset = Event.objects.none()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventCursorPagination
    read_capability = Capability.CATALOG_READ
    filter_backends: list[Any] = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Event]:
        return event_list(organization_id=self.organization.pk)
