"""Which organization, and which role, a request acts as."""

from __future__ import annotations

from typing import Any

from accounts.models import ApiToken, Membership
from accounts.selectors import user_memberships
from enterprise_suite.errors import PermissionDenied

ORGANIZATION_HEADER = "X-Organization"


def request_membership(request: Any) -> Membership:
    """The caller's membership: the token's, or for a session the one named by the
    `X-Organization` header (slug or id), else the user's first."""
    cached = getattr(request, "_es_membership", None)
    if cached is not None:
        return cached
    if isinstance(request.auth, ApiToken):
        membership = request.auth.membership
    else:
        memberships = user_memberships(user_id=request.user.pk)
        wanted = request.headers.get(ORGANIZATION_HEADER)
        if wanted:
            found = [
                m for m in memberships if wanted in (m.organization.slug, str(m.organization_id))
            ]
        else:
            found = list(memberships[:1])
        if not found:
            raise PermissionDenied("You are not a member of that organization.")
        membership = found[0]
    request._es_membership = membership
    return membership
