"""The event outbox: every status change of every object, in order."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Event(models.Model):
    """Something that happened to an organization's object, written in the same transaction as
    the change itself. The auto-incrementing id gives clients a total order to resume from."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(max_length=60, db_index=True)
    subject_type = models.CharField(max_length=30)
    subject_id = models.UUIDField()
    release_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Set only when the live fan-out failed (Redis unreachable): such events are published again.
    stream_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["organization", "id"], name="event_org_id"),
            models.Index(
                fields=["id"], condition=models.Q(stream_pending=True), name="event_stream_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} {self.subject_type}:{self.subject_id}"

    @property
    def subject(self) -> tuple[str, uuid.UUID]:
        return self.subject_type, self.subject_id


class InboundWebhook(models.Model):
    """An acknowledgement a store posted to `/api/v1/inbound/{store}/`, verified and stored
    before it is processed; unique per store and the store's own message id (idempotency)."""

    id = models.BigAutoField(primary_key=True)
    store = models.ForeignKey(
        "distribution.Store", on_delete=models.PROTECT, related_name="inbound_webhooks"
    )
    message_id = models.CharField(max_length=200)
    acknowledges = models.CharField(max_length=80, help_text="Our ERN MessageId.")
    status = models.CharField(max_length=10)
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "message_id"], name="inbound_webhook_store_message_unique"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.store_id}:{self.message_id} ({self.status})"


class WebhookEndpoint(models.Model):
    """A URL of an organization that receives its events, signed with a per-endpoint secret
    (Standard Webhooks, `whsec_<base64>`). An empty `event_types` subscribes to every type."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=255, blank=True)
    # Kept readable (not hashed): every delivery is signed with it.
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    # Deleting keeps the row (inactive, hidden from the API) so its delivery log survives.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.url} (deleted)" if self.deleted_at else self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # every attempt used up: abandoned


class WebhookDelivery(models.Model):
    """One event for one endpoint: the webhook outbox row, written in the event's transaction.

    Subject columns are copied from the event so the "earlier undelivered delivery for the same
    endpoint and subject" check that keeps deliveries in order is one indexed query."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="webhook_deliveries")
    subject_type = models.CharField(max_length=30)
    subject_id = models.UUIDField()
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["event_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "subject_type", "subject_id", "status", "event"],
                name="webhook_delivery_chain",
            ),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: the same on every attempt, so receivers can deduplicate."""
        return f"msg_{self.id.hex}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True)  # trimmed to 2 KB
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status_code})"
