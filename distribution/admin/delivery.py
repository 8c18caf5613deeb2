"""Stores and deliveries in the admin panel; retries go through the same service as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.roles import Capability, user_has_capability
from distribution.models import Delivery, DeliveryAttempt, Store
from distribution.services.delivery import delivery_retry
from enterprise_suite.errors import ApplicationError


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin[Store]):
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


class DeliveryAttemptInline(admin.TabularInline[DeliveryAttempt, Delivery]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["task_id", "started_at", "finished_at", "outcome", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
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
    list_filter = ["status", "kind", "store", "organization"]
    search_fields = ["release__title", "release__upc", "message_id"]
    list_select_related = ["release", "store"]
    readonly_fields = [
        "organization", "release", "store", "kind", "status", "message_id", "batch_id",
        "attempt_count", "next_attempt_at", "lease_expires_at", "last_error", "delivered_at",
        "acknowledged_at", "store_message", "message_xml",
    ]  # fmt: skip
    inlines = [DeliveryAttemptInline]
    actions = ["retry_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry selected failed or rejected deliveries")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        done, refused = [], []
        for delivery in queryset.select_related("release", "store"):
            label = f"{delivery.release.title} → {delivery.store.name}"
            if not user_has_capability(
                request.user, delivery.organization_id, Capability.CATALOG_WRITE
            ):
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
