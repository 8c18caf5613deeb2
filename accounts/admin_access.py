"""What the admin panel lets a staff user see and do: their organization roles decide, through
the same capabilities as the API (accounts.roles), not Django's per-model permissions.

A staff member sees the objects of the organizations they belong to; a viewer only looks; a
manager edits the catalog and sends deliveries; a qc_reviewer reviews; owners and admins do
both. Superusers see and do everything. Stores are a registry shared by every organization,
so only superusers change them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from accounts.models import Membership, Organization
from accounts.roles import Capability, role_allows


def _roles(request: HttpRequest) -> dict[uuid.UUID, str]:
    """The user's role per organization, read once per request."""
    cached: dict[uuid.UUID, str] | None = getattr(request, "_organization_roles", None)
    if cached is None:
        user_id = request.user.pk
        cached = (
            dict(Membership.objects.filter(user_id=user_id).values_list("organization_id", "role"))
            if user_id is not None
            else {}
        )
        request._organization_roles = cached  # type: ignore[attr-defined]
    return cached


def _staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def admin_allows(request: HttpRequest, capability: Capability, organization_id: Any = None) -> bool:
    """Whether the signed-in staff user may do this in that organization (None: in any)."""
    if not _staff(request):
        return False
    if request.user.is_superuser:
        return True
    roles = _roles(request)
    if organization_id is None:
        return any(role_allows(role, capability) for role in roles.values())
    role = roles.get(organization_id)
    return role is not None and role_allows(role, capability)


def admin_organization_ids(request: HttpRequest, capability: Capability) -> list[Any] | None:
    """The organizations where the user has the capability; None means all (superusers)."""
    if request.user.is_superuser:
        return None
    return [org for org, role in _roles(request).items() if role_allows(role, capability)]


class OrganizationRoleAdmin(admin.ModelAdmin[Any]):
    """A model admin whose rows belong to organizations (`organization_field`): lists show
    the user's organizations only, and changes need `write_capability` in the object's
    organization (None: superusers only)."""

    organization_field = "organization"
    view_capability: Capability = Capability.CATALOG_READ
    write_capability: Capability | None = Capability.CATALOG_WRITE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        organizations = admin_organization_ids(request, self.view_capability)
        if organizations is None:
            return queryset
        return queryset.filter(**{f"{self.organization_field}__in": organizations})

    def _organization_of(self, obj: Model | None) -> Any:
        if obj is None:
            return None
        if self.organization_field == "pk":
            return obj.pk
        return getattr(obj, f"{self.organization_field}_id", None)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request, self.view_capability)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(request, self.view_capability, self._organization_of(obj))

    def is_frozen(self, obj: Any) -> bool:
        """Whether `obj` may not change at all now (e.g. a release in review)."""
        return False

    def _may_write(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self.is_frozen(obj):
            return False
        if self.write_capability is None:
            return _staff(request) and bool(request.user.is_superuser)
        return admin_allows(request, self.write_capability, self._organization_of(obj))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return super().formfield_for_foreignkey(
            db_field, request, **_scoped_choices(db_field, request, self.write_capability, kwargs)
        )


def _scoped_choices(
    db_field: Any, request: HttpRequest, capability: Capability | None, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """A foreign key's choices limited to the organizations where the user may write: the
    organization itself, or any object that belongs to one (a release, a label, an artist).
    Django offers and accepts every row otherwise, another organization's too."""
    if capability is None:
        return kwargs
    organizations = admin_organization_ids(request, capability)
    if organizations is None:
        return kwargs
    related = db_field.remote_field.model
    if related is Organization:
        kwargs["queryset"] = related.objects.filter(pk__in=organizations)
    elif any(field.name == "organization" for field in related._meta.fields):
        kwargs["queryset"] = related.objects.filter(organization_id__in=organizations)
    return kwargs


class OrganizationRoleInline(admin.options.InlineModelAdmin[Any, Any]):
    """An inline on an OrganizationRoleAdmin page: the parent's organization decides
    (`write_capability` None: superusers only)."""

    view_capability: Capability = Capability.CATALOG_READ
    write_capability: Capability | None = Capability.CATALOG_WRITE
    parent_organization_field = "organization"

    def _organization_of(self, obj: Model | None) -> Any:
        if obj is None:
            return None
        if self.parent_organization_field == "pk":
            return obj.pk
        return getattr(obj, f"{self.parent_organization_field}_id", None)

    def is_frozen(self, parent: Any) -> bool:
        """Whether the parent object may not change at all now."""
        return False

    def _may_write(self, request: HttpRequest, obj: Any) -> bool:
        if obj is not None and self.is_frozen(obj):
            return False
        if self.write_capability is None:
            return _staff(request) and bool(request.user.is_superuser)
        return admin_allows(request, self.write_capability, self._organization_of(obj))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return super().formfield_for_foreignkey(
            db_field, request, **_scoped_choices(db_field, request, self.write_capability, kwargs)
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(request, self.view_capability, self._organization_of(obj))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)


class SharedRegistryAdmin(admin.ModelAdmin[Any]):
    """A registry every organization uses (stores): every staff member with a role may look,
    only superusers change it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request, Capability.CATALOG_READ)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(request, Capability.CATALOG_READ)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _staff(request) and bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _staff(request) and bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _staff(request) and bool(request.user.is_superuser)


# Lists the organizations present in the (already scoped) rows, never every organization's name.
ORGANIZATION_FILTER = ("organization", admin.RelatedOnlyFieldListFilter)
