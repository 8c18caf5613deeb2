"""What each role may do, and which token scope each capability needs.

A request is allowed when the caller's role grants the capability and, for token
authentication, the token carries the scope the capability needs. Scopes nest: `admin`
includes `write`, which includes `read`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from accounts.choices import Role, Scope


class Capability(StrEnum):
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    RELEASE_REVIEW = "release.review"
    ORGANIZATION_READ = "organization.read"
    ORGANIZATION_MANAGE = "organization.manage"
    MEMBERS_MANAGE = "members.manage"
    TOKENS_MANAGE = "tokens.manage"


_EVERYONE = frozenset(Role)

ROLE_CAPABILITIES: dict[Capability, frozenset[Role]] = {
    Capability.CATALOG_READ: _EVERYONE,
    Capability.ORGANIZATION_READ: _EVERYONE,
    Capability.CATALOG_WRITE: frozenset({Role.OWNER, Role.ADMIN, Role.MANAGER}),
    Capability.RELEASE_REVIEW: frozenset({Role.OWNER, Role.ADMIN, Role.QC_REVIEWER}),
    Capability.ORGANIZATION_MANAGE: frozenset({Role.OWNER, Role.ADMIN}),
    Capability.MEMBERS_MANAGE: frozenset({Role.OWNER, Role.ADMIN}),
    Capability.TOKENS_MANAGE: frozenset({Role.OWNER, Role.ADMIN}),
}

CAPABILITY_SCOPE: dict[Capability, Scope] = {
    Capability.CATALOG_READ: Scope.READ,
    Capability.ORGANIZATION_READ: Scope.READ,
    Capability.CATALOG_WRITE: Scope.WRITE,
    Capability.RELEASE_REVIEW: Scope.WRITE,
    Capability.ORGANIZATION_MANAGE: Scope.ADMIN,
    Capability.MEMBERS_MANAGE: Scope.ADMIN,
    Capability.TOKENS_MANAGE: Scope.ADMIN,
}

_SCOPE_RANK = {Scope.READ: 1, Scope.WRITE: 2, Scope.ADMIN: 3}


def role_allows(role: str, capability: Capability) -> bool:
    return Role(role) in ROLE_CAPABILITIES[capability]


def scopes_allow(scopes: list[str], capability: Capability) -> bool:
    needed = _SCOPE_RANK[CAPABILITY_SCOPE[capability]]
    return any(_SCOPE_RANK.get(Scope(s), 0) >= needed for s in scopes if s in Scope.values)


def user_has_capability(user: Any, organization_id: Any, capability: Capability) -> bool:
    """Whether a signed-in user's role in the organization grants the capability
    (superusers always do). Used where there is no API token, e.g. the admin panel."""
    from accounts.models import Membership

    if getattr(user, "is_superuser", False):
        return True
    role = (
        Membership.objects.filter(user=user, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )
    return role is not None and role_allows(role, capability)
