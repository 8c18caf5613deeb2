"""The one function every service calls on a state change.

`publish` writes the `Event` row in the caller's transaction, so the event exists exactly when
the change does. Fan-out (WebSocket stream, webhooks) happens after commit; the live-status
issue extends `_after_commit`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from realtime.models import Event


def _after_commit(event_id: int) -> None:
    """Fan-out hook, run once the publishing transaction has committed."""


def publish(
    *,
    organization_id: uuid.UUID,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    data: dict[str, Any] | None = None,
    release_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> Event:
    event = Event.objects.create(
        organization_id=organization_id,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        release_id=release_id,
        actor_id=actor_id,
        data=data or {},
    )
    transaction.on_commit(lambda: _after_commit(event.pk))
    return event
