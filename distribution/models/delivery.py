"""Stores and deliveries: where releases go and how each delivery stands."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from accounts.models import Organization
from distribution.choices import (
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    TakedownMode,
    TransportKind,
)
from distribution.models.catalog import Release
from enterprise_suite.models import BaseModel

ACTIVE_DELIVERY_STATUSES = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.PACKAGING,
    DeliveryStatus.UPLOADING,
    DeliveryStatus.FAILED,
)


class Store(BaseModel):
    """A digital service provider that receives DDEX deliveries (Spotify, Apple Music, ...).

    `transport_settings` holds only non-secret connection settings (root folder, host, port,
    user, bucket, prefix, ack folders). Secrets come from environment variables named
    `STORE_<CODE>_<NAME>` (e.g. STORE_SPOTIFY_PASSWORD), never from the database.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    dpid = models.CharField("DDEX party id", max_length=20)
    ern_version = models.CharField(max_length=10, default="4.3")
    transport = models.CharField(max_length=20, choices=TransportKind.choices)
    transport_settings = models.JSONField(default=dict, blank=True)
    delivery_mode = models.CharField(
        max_length=10, choices=DeliveryMode.choices, default=DeliveryMode.RELEASE
    )
    resend_audio_on_update = models.BooleanField(default=False)
    takedown_mode = models.CharField(
        max_length=10, choices=TakedownMode.choices, default=TakedownMode.NO_DEALS
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReleaseStore(models.Model):
    """A store a release is to be delivered to."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="store_choices")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "store"], name="release_store_unique")
        ]

    def __str__(self) -> str:
        return f"{self.release_id} -> {self.store_id}"


class Delivery(BaseModel):
    """One message (insert, update or takedown) of one release to one store, and its outcome."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="deliveries"
    )
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deliveries")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    status = models.CharField(
        max_length=15, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED, db_index=True
    )
    message_id = models.CharField(max_length=80, unique=True)
    batch_id = models.CharField(max_length=80, blank=True)
    message_xml = models.TextField(blank=True, help_text="The exact ERN message sent.")
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    store_message = models.TextField(blank=True, help_text="The store's acknowledgement text.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["release", "store"],
                condition=Q(status__in=ACTIVE_DELIVERY_STATUSES),
                name="one_active_delivery_per_release_store",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.release_id} -> {self.store_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: which task, when, and how it ended."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
