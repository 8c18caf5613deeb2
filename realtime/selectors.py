"""Reads of the event outbox, always scoped to one organization."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from realtime.models import Event


def event_list(
    *,
    organization_id: uuid.UUID,
    after_id: int | None = None,
    release_ids: Iterable[uuid.UUID] | None = None,
    types: Iterable[str] | None = None,
) -> QuerySet[Event]:
    events = Event.objects.filter(organization_id=organization_id).order_by("id")
    if after_id is not None:
        events = events.filter(id__gt=after_id)
    if release_ids is not None:
        events = events.filter(release_id__in=list(release_ids))
    if types is not None:
        events = events.filter(type__in=list(types))
    return events


def event_message(event: Event) -> dict[str, Any]:
    """The wire shape clients get, over the stream and the API alike."""
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {
            **event.data,
            "subject_type": event.subject_type,
            "subject_id": str(event.subject_id),
            "release_id": str(event.release_id) if event.release_id else None,
        },
    }
