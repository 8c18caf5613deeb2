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

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "id"], name="event_org_id")]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} {self.subject_type}:{self.subject_id}"

    @property
    def subject(self) -> tuple[str, uuid.UUID]:
        return self.subject_type, self.subject_id
