from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.admin_access import ORGANIZATION_FILTER, OrganizationRoleAdmin, OrganizationRoleInline
from accounts.models import User
from distribution.admin.release_page import ReleaseDeliveryActions
from distribution.models import Artist, Label, Release, ReleaseContributor, Track, TrackContributor
from distribution.services.review import EDITABLE, release_lock_for_edit
from enterprise_suite.errors import InvalidTransition


class FrozenWithReleaseMixin:
    """Submitted, approved and delivered releases are frozen (as over the API): their page,
    tracks and credits become read-only until the release is a draft again."""

    release_path: tuple[str, ...] = ()  # from the object to its release

    def release_of(self, obj: Any) -> Release:
        for name in self.release_path:
            obj = getattr(obj, name)
        return cast(Release, obj)

    def is_frozen(self, obj: Any) -> bool:
        return self.release_of(obj).status not in EDITABLE

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved as the API saves: the release is locked first and must still be editable
        (it may have been submitted since the page was opened), and editing a rejected
        release reopens it as a draft, with its event. The inlines are saved after, in the
        same transaction."""
        release = self.release_of(obj)
        if change or obj is not release:  # not for a release being added
            actor = request.user
            assert isinstance(actor, User)  # the admin only serves signed-in staff
            try:
                locked = release_lock_for_edit(release=release, actor=actor)
            except InvalidTransition as exc:
                raise PermissionDenied(exc.message) from None
            release.status = locked.status  # not the status the page was opened with
        # The ModelAdmin this mixes into (the inlines never call it).
        super().save_model(request, obj, form, change)  # type: ignore[misc]


class ReleaseContributorInline(
    FrozenWithReleaseMixin, OrganizationRoleInline, admin.TabularInline[ReleaseContributor, Release]
):
    model = ReleaseContributor
    extra = 0
    autocomplete_fields = ["artist"]


class TrackInline(
    FrozenWithReleaseMixin, OrganizationRoleInline, admin.TabularInline[Track, Release]
):
    model = Track
    extra = 0
    fields = [
        "disc_number",
        "track_number",
        "title",
        "version",
        "isrc",
        "duration_seconds",
        "parental_warning",
    ]
    show_change_link = True


class TrackContributorInline(
    FrozenWithReleaseMixin, OrganizationRoleInline, admin.TabularInline[TrackContributor, Track]
):
    release_path = ("release",)
    model = TrackContributor
    extra = 0
    autocomplete_fields = ["artist"]


@admin.register(Label)
class LabelAdmin(OrganizationRoleAdmin):
    list_display = ["name", "organization", "p_line", "c_line"]
    list_filter = [ORGANIZATION_FILTER]
    search_fields = ["name"]


@admin.register(Artist)
class ArtistAdmin(OrganizationRoleAdmin):
    list_display = ["name", "isni", "organization", "created_at"]
    list_filter = [ORGANIZATION_FILTER]
    search_fields = ["name", "isni"]


@admin.register(Release)
class ReleaseAdmin(ReleaseDeliveryActions, FrozenWithReleaseMixin, OrganizationRoleAdmin):
    list_display = [
        "title",
        "version",
        "release_type",
        "upc",
        "status",
        "release_date",
        "organization",
    ]
    list_filter = ["status", "release_type", ORGANIZATION_FILTER, "parental_warning"]
    search_fields = ["title", "version", "upc", "tracks__isrc"]
    date_hierarchy = "release_date"
    list_select_related = ["organization"]
    autocomplete_fields = ["label"]
    readonly_fields = [
        "status",
        "submitted_at",
        "reviewed_at",
        "reviewed_by",
        "review_note",
        "findings",
        "deliveries_panel",
    ]
    inlines = [ReleaseContributorInline, TrackInline]
    change_form_template = "admin/distribution/release/change_form.html"

    @admin.display(description="Validation findings")
    def findings(self, obj: Release) -> str:
        if obj.pk is None:
            return "Save the release to see its findings."
        from distribution.admin.review import render_findings

        return render_findings(obj)


@admin.register(Track)
class TrackAdmin(FrozenWithReleaseMixin, OrganizationRoleAdmin):
    release_path = ("release",)
    list_display = [
        "title",
        "version",
        "isrc",
        "release",
        "disc_number",
        "track_number",
        "duration_seconds",
    ]
    list_filter = [ORGANIZATION_FILTER, "parental_warning"]
    search_fields = ["title", "isrc", "release__title"]
    list_select_related = ["release"]
    autocomplete_fields = ["release"]
    inlines = [TrackContributorInline]
