"""Reads for accounts, always scoped to one organization."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accounts.models import ApiToken, Membership, Organization
from enterprise_suite.selectors import get_or_not_found


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user")


def membership_get(*, organization: Organization, membership_id: uuid.UUID | str) -> Membership:
    return get_or_not_found(membership_list(organization=organization), membership_id, "member")


def token_list(*, organization: Organization) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(membership__organization=organization).select_related(
        "membership__user"
    )


def token_get(*, organization: Organization, token_id: uuid.UUID | str) -> ApiToken:
    return get_or_not_found(token_list(organization=organization), token_id, "token")


def user_memberships(*, user_id: uuid.UUID) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user_id=user_id)
        .select_related("organization", "user")
        .order_by("created_at")
    )
