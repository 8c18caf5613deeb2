"""Stores and deliveries in the admin panel: retries go through the same service as the API,
and the live delivery monitor follows the organization's event stream over /ws/events/."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from accounts.admin_access import (
    ORGANIZATION_FILTER,
    OrganizationRoleAdmin,
    SharedRegistryAdmin,
    admin_allows,
    admin_organization_ids,
)
from accounts.models import Organization
from accounts.roles import Capability
from distribution.admin.release_page import last_error, status_badge, with_last_attempt_error
from distribution.choices import DeliveryStatus
from distribution.models import Delivery, DeliveryAttempt, Store
from distribution.services.delivery import delivery_retry
from enterprise_suite.errors import ApplicationError
from realtime.models import Event

MONITOR_ROWS = 100


@admin.register(Store)
class StoreAdmin(SharedRegistryAdmin):
    list_display = [
        "name",
        "code",
        "dpid",
        "transport",
        "delivery_mode",
        "takedown_mode",
        "is_active",
    ]
    list_filter = ["transport", "is_active"]
    search_fields = ["name", "code", "dpid"]
    actions = ["retry_failed_deliveries"]

    def has_send_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request, Capability.CATALOG_WRITE)

    @admin.action(
        description="Retry the failed deliveries to selected stores", permissions=["send"]
    )
    def retry_failed_deliveries(self, request: HttpRequest, queryset: QuerySet[Store]) -> None:
        """Every failed delivery to these stores, in the organizations where the user may send
        deliveries; the others are counted as refused, not touched."""
        organizations = admin_organization_ids(request, Capability.CATALOG_WRITE)
        for store in queryset:
            failed = Delivery.objects.filter(store=store, status=DeliveryStatus.FAILED)
            allowed = (
                failed
                if organizations is None
                else failed.filter(organization_id__in=organizations)
            )
            not_allowed = failed.count() - allowed.count()
            done, refused = 0, []
            for delivery in allowed.select_related("release", "store"):
                try:
                    delivery_retry(delivery=delivery)
                    done += 1
                except ApplicationError as exc:
                    refused.append(f"{delivery.release.title}: {exc.message}")
            if not_allowed:
                refused.append(f"{not_allowed} in organizations where your role may not send")
            level = messages.SUCCESS if done else messages.INFO
            self.message_user(
                request,
                f"{store.name}: retrying {done} failed deliver{'y' if done == 1 else 'ies'}.",
                level,
            )
            if refused:
                self.message_user(
                    request, f"{store.name}: not retried: {'; '.join(refused)}", messages.ERROR
                )


class DeliveryAttemptInline(admin.TabularInline[DeliveryAttempt, Delivery]):
    """Read-only history; seeing it follows the delivery page."""

    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["task_id", "started_at", "finished_at", "outcome", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(
            request, Capability.CATALOG_READ, obj.organization_id if obj is not None else None
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(OrganizationRoleAdmin):
    list_display = [
        "release",
        "store",
        "kind",
        "status",
        "attempt_count",
        "delivered_at",
        "acknowledged_at",
        "updated_at",
    ]
    list_filter = ["status", "kind", "store", ORGANIZATION_FILTER]
    search_fields = ["release__title", "release__upc", "message_id"]
    list_select_related = ["release", "store"]
    readonly_fields = [
        "organization", "release", "store", "kind", "status", "message_id", "batch_id",
        "attempt_count", "next_attempt_at", "lease_expires_at", "last_error", "delivered_at",
        "acknowledged_at", "store_message", "message_xml",
    ]  # fmt: skip
    inlines = [DeliveryAttemptInline]
    actions = ["retry_selected"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the history of what was sent stays

    def has_send_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request, Capability.CATALOG_WRITE)

    @admin.action(description="Retry selected failed or rejected deliveries", permissions=["send"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        done, refused = [], []
        for delivery in queryset.select_related("release", "store"):
            label = f"{delivery.release.title} → {delivery.store.name}"
            if not admin_allows(request, Capability.CATALOG_WRITE, delivery.organization_id):
                refused.append(f"{label}: your role may not send deliveries")
                continue
            try:
                delivery_retry(delivery=delivery)
                done.append(label)
            except ApplicationError as exc:
                refused.append(f"{label}: {exc.message}")
        if done:
            self.message_user(request, f"Retrying: {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not retried: {'; '.join(refused)}", messages.ERROR)

    # --- the live monitor ---------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("monitor/", view(self.monitor_view), name="distribution_delivery_monitor"),
            path(
                "monitor/row/<uuid:delivery_id>/",
                view(self.monitor_row_view),
                name="distribution_delivery_monitor_row",
            ),
            *super().get_urls(),
        ]

    def _monitor_rows(self, organization_id: Any) -> QuerySet[Delivery]:
        # Each row carries the id of the last event about it, so the page applies only newer
        # events, whatever order the page load, the replay and live frames arrive in.
        last_event = Event.objects.filter(
            release_id=OuterRef("release_id"), subject_id=OuterRef("pk")
        ).order_by("-id")
        return (
            with_last_attempt_error(Delivery.objects.filter(organization_id=organization_id))
            .select_related("release", "store")
            .annotate(last_event_id=Subquery(last_event.values("id")[:1]))
            .order_by("-updated_at")
        )

    def _monitor_row(self, delivery: Delivery) -> dict[str, Any]:
        return {
            "delivery": delivery,
            "badge": status_badge(delivery.status),
            "error": last_error(delivery),
        }

    def monitor_view(self, request: HttpRequest) -> HttpResponse:
        """Deliveries of one organization, updated live from the event stream."""
        allowed = admin_organization_ids(request, Capability.CATALOG_READ)
        organizations = list(
            Organization.objects.all()
            if allowed is None
            else Organization.objects.filter(pk__in=allowed)
        )
        requested = request.GET.get("organization", "")
        organization = next(
            (o for o in organizations if str(o.pk) == requested),
            organizations[0] if organizations else None,
        )
        rows, last_event_id = [], 0
        if organization is not None:
            # Read the high-water mark first: an event between the two reads is replayed.
            last_event_id = (
                Event.objects.filter(organization=organization).aggregate(last=Max("id"))["last"]
                or 0
            )
            rows = [
                self._monitor_row(d) for d in self._monitor_rows(organization.pk)[:MONITOR_ROWS]
            ]
        return TemplateResponse(
            request,
            "admin/distribution/delivery/monitor.html",
            {
                **self.admin_site.each_context(request),
                "title": "Live delivery monitor",
                "opts": self.model._meta,
                "organizations": organizations,
                "organization": organization,
                "rows": rows,
                "last_event_id": last_event_id,
            },
        )

    def monitor_row_view(self, request: HttpRequest, delivery_id: Any) -> HttpResponse:
        """One row, for a delivery the page has not seen yet."""
        delivery = get_object_or_404(Delivery, pk=delivery_id)
        if not admin_allows(request, Capability.CATALOG_READ, delivery.organization_id):
            raise Http404("No such delivery.")
        row = self._monitor_rows(delivery.organization_id).get(pk=delivery.pk)
        return TemplateResponse(
            request, "admin/distribution/delivery/monitor_row.html", self._monitor_row(row)
        )
