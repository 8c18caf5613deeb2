"""Read helpers shared by every app's selectors."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet

from enterprise_suite.errors import NotFound

M = TypeVar("M", bound=Model)


def get_or_not_found(queryset: QuerySet[M], pk: uuid.UUID | str | Any, what: str) -> M:
    """The row with this primary key in the (organization-scoped) queryset, else NotFound.

    A malformed id is reported the same way as a missing or foreign one, so responses never
    reveal whether another organization's object exists.
    """
    try:
        return queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(f"No such {what}.") from None
