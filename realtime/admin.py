"""Webhook endpoints and deliveries in the admin panel; writes go through the same services as
the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_access import (
    ORGANIZATION_FILTER,
    OrganizationRoleAdmin,
    OrganizationRoleInline,
    admin_allows,
)
from accounts.roles import Capability
from enterprise_suite.errors import ApplicationError
from realtime.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from realtime.webhooks import (
    UnsafeUrl,
    webhook_delivery_replay,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_secret_generate,
    webhook_url_check,
)


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "url", "event_types", "description", "is_active"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            webhook_url_check(url)
        except UnsafeUrl as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationRoleAdmin):
    """Owners and admins of the organization (as over the API); superusers everywhere."""

    view_capability = Capability.ORGANIZATION_MANAGE
    write_capability = Capability.ORGANIZATION_MANAGE
    form = WebhookEndpointForm
    list_display = ["url", "organization", "is_active", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active", ORGANIZATION_FILTER]
    search_fields = ["url", "description"]
    readonly_fields = ["consecutive_failures", "disabled_at", "disabled_reason"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    # Deleting keeps the endpoint's delivery log, as over the API: nothing cascades, so the
    # confirmation lists the endpoints alone.
    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        return (
            [str(obj) for obj in objs],
            {WebhookEndpoint._meta.verbose_name: len(objs)},
            set(),
            [],
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if change:
            # Through the service: re-enabling by hand resets the failure count, as over the
            # API (else the next failure would disable the endpoint again at once).
            webhook_endpoint_update(
                endpoint=WebhookEndpoint.objects.get(pk=obj.pk),
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
            return
        obj.secret = webhook_secret_generate()
        super().save_model(request, obj, form, change)
        self.message_user(
            request, f"Signing secret (shown once, store it now): {obj.secret}", messages.WARNING
        )


class WebhookAttemptInline(
    OrganizationRoleInline, admin.TabularInline[WebhookAttempt, WebhookDelivery]
):
    """Every attempt, for every member who can read the delivery; never edited."""

    view_capability = Capability.CATALOG_READ
    write_capability = None
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = [
        "started_at", "succeeded", "status_code", "latency_ms", "response_body", "error",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganizationRoleAdmin):
    """Every member reads the delivery log; the replay action checks the role per row."""

    view_capability = Capability.CATALOG_READ
    write_capability = Capability.ORGANIZATION_MANAGE
    list_display = ["event", "endpoint", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status", ORGANIZATION_FILTER]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "organization", "endpoint", "event", "subject_type", "subject_id", "status",
        "attempt_count", "next_attempt_at", "lease_expires_at", "last_attempt_at",
        "delivered_at", "last_error",
    ]  # fmt: skip
    inlines = [WebhookAttemptInline]
    actions = ["replay_selected"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the log of what was sent stays

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request, Capability.ORGANIZATION_MANAGE)

    @admin.action(description="Replay selected finished deliveries", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done, refused = [], []
        for delivery in queryset:
            label = str(delivery)
            if not admin_allows(request, Capability.ORGANIZATION_MANAGE, delivery.organization_id):
                refused.append(f"{label}: your role may not replay webhooks")
                continue
            try:
                webhook_delivery_replay(delivery=delivery)
                done.append(label)
            except ApplicationError as exc:
                refused.append(f"{label}: {exc.message}")
        if done:
            self.message_user(request, f"Replaying: {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not replayed: {'; '.join(refused)}", messages.ERROR)
