from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_access import ORGANIZATION_FILTER, OrganizationRoleAdmin, OrganizationRoleInline
from accounts.choices import Role
from accounts.models import ApiToken, Membership, Organization, User
from accounts.roles import Capability
from accounts.services import member_change_role, member_remove, membership_is_last_owner
from enterprise_suite.errors import Conflict


class MembershipInline(OrganizationRoleInline, admin.TabularInline[Membership, Organization]):
    """Read-only here: memberships change on their own admin page (superusers) or over the
    API, both through accounts.services, where the owner-role and last-owner rules live."""

    model = Membership
    view_capability = Capability.ORGANIZATION_READ
    write_capability = None
    parent_organization_field = "pk"
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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


OPERATOR_ONLY_FIELDS = ["slug", "isrc_prefix", "isrc_designation_year", "isrc_next_designation"]


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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # What the API's organization_update does not let owners change either: the slug
        # (in URLs and commands) and the ISRC allocation (moving it back duplicates ISRCs).
        if obj is not None and not request.user.is_superuser:
            return [*super().get_readonly_fields(request, obj), *OPERATOR_ONLY_FIELDS]
        return super().get_readonly_fields(request, obj)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)


class MembershipAdminForm(forms.ModelForm[Membership]):
    """Refuses, with a message on the form, to demote an organization's last owner."""

    class Meta:
        model = Membership
        fields = ["user", "organization", "role"]

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"])
        current = self.instance
        if current.pk and role != Role.OWNER and membership_is_last_owner(current):
            raise forms.ValidationError("The organization's last owner cannot be demoted.")
        return role


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
    form = MembershipAdminForm

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A membership is a user in an organization: only its role changes afterwards.
        return ["user", "organization"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change and "role" in form.changed_data:
            # Through the service: the owner rows are locked, so the last-owner rule holds
            # against a concurrent change too.
            member_change_role(
                actor=None, membership=Membership.objects.get(pk=obj.pk), role=obj.role
            )
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and membership_is_last_owner(obj):
            return False  # the organization's last owner stays
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        member_remove(actor=None, membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        kept = []
        for membership in queryset.select_related("user", "organization"):
            try:
                member_remove(actor=None, membership=membership)
            except Conflict:
                kept.append(f"{membership.user} ({membership.organization})")
        if kept:
            self.message_user(
                request,
                f"Kept the last owner of their organization: {', '.join(kept)}.",
                messages.WARNING,
            )


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
