"""DRF permission: the caller's role grants the view's capability and the token has its scope."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.context import request_membership
from accounts.models import ApiToken
from accounts.roles import CAPABILITY_SCOPE, Capability, role_allows, scopes_allow


def required_capability(request: Request, view: Any) -> Capability | None:
    """Views declare `action_capabilities` (by viewset action) or read/write capabilities."""
    action = getattr(view, "action", None)
    by_action: dict[str, Capability] = getattr(view, "action_capabilities", {})
    if action in by_action:
        return by_action[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_capability", None)
    return getattr(view, "write_capability", None)


class HasCapability(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        capability = required_capability(request, view)
        if capability is None:
            return True
        membership = request_membership(request)
        if not role_allows(membership.role, capability):
            raise exceptions.PermissionDenied(
                f"Your role '{membership.role}' does not allow {capability.value}."
            )
        token = request.auth
        if isinstance(token, ApiToken) and not scopes_allow(token.scopes, capability):
            raise exceptions.PermissionDenied(
                f"This token lacks the '{CAPABILITY_SCOPE[capability].value}' scope "
                f"needed for {capability.value}."
            )
        return True
