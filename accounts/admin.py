from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts.admin_access import ORGANIZATION_FILTER, OrganizationRoleAdmin, OrganizationRoleInline
from accounts.models import ApiToken, Membership, Organization, User
from accounts.roles import Capability


class MembershipInline(OrganizationRoleInline, admin.TabularInline[Membership, Organization]):
    model = Membership
    view_capability = Capability.ORGANIZATION_READ
    # Members are managed over the API (accounts.services: the owner-role and last-owner
    # rules); here only superusers change them.
    write_capability = None
    parent_organization_field = "pk"
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "memberships__role"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login",)}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(OrganizationRoleAdmin):
    """Members see their organizations; owners and admins change them; only superusers
    create them (operators use `manage.py create_organization`)."""

    organization_field = "pk"
    view_capability = Capability.ORGANIZATION_READ
    write_capability = Capability.ORGANIZATION_MANAGE

    list_display = ["name", "slug", "default_currency", "release_lead_days", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Membership)
class MembershipAdmin(OrganizationRoleAdmin):
    """Members see their organizations' members. Owners and admins manage them over the API,
    where the owner-role and last-owner rules live (accounts.services); here only superusers
    change them."""

    view_capability = Capability.ORGANIZATION_READ
    write_capability = None

    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", ORGANIZATION_FILTER]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are issued through the API or `manage.py issue_token`; here they can be revoked."""

    list_display = [
        "name",
        "prefix",
        "membership",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["membership__organization"]
    search_fields = ["name", "prefix", "membership__user__email"]
    readonly_fields = ["prefix", "secret_hash", "last_used_at", "created_by", "membership"]

    def has_add_permission(self, request: object) -> bool:
        return False
