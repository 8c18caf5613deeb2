"""The QC queue: submitted and in-review releases, oldest first, with artwork, audio
properties and validation findings, approved or rejected through the same services as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_access import ORGANIZATION_FILTER, OrganizationRoleAdmin, admin_allows
from accounts.models import User
from accounts.roles import Capability
from distribution.choices import AssetKind, ReleaseStatus
from distribution.models import Asset, Release, ReleaseInReview
from distribution.services import review
from enterprise_suite.errors import ApplicationError


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin only serves signed-in staff
    return request.user


def _current(assets: list[Asset], **owner: Any) -> Asset | None:
    key, value = next(iter(owner.items()))
    return next((a for a in assets if getattr(a, key) == value and a.superseded_at is None), None)


def render_findings(release: Release) -> str:
    """The release's validation findings as an HTML list, errors and warnings with hints."""
    found = review.release_findings(release=release)
    if not found:
        return "No findings."
    return format_html(
        '<ul class="findings">{}</ul>',
        format_html_join(
            "",
            '<li class="finding-{}"><b>{}</b> {} <code>{}</code>: {} <i>{}</i></li>',
            (
                (f.severity, f.severity.upper(), f.rule_id, f.field, f.message, f.hint)
                for f in found
            ),
        ),
    )


class QCStatusFilter(admin.SimpleListFilter):
    """Only the statuses a release can have while it waits in the queue."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s.value, str(s.label)) for s in (ReleaseStatus.SUBMITTED, ReleaseStatus.IN_REVIEW)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(ReleaseInReview)
class QCQueueAdmin(OrganizationRoleAdmin):
    list_display = [
        "artwork_thumbnail",
        "title",
        "version",
        "upc",
        "status",
        "submitted_at",
        "organization",
    ]
    list_display_links = ["artwork_thumbnail", "title"]
    list_filter = [QCStatusFilter, ORGANIZATION_FILTER]
    search_fields = ["title", "upc", "tracks__isrc"]
    ordering = ["submitted_at"]
    actions = ["start_review_selected", "approve_selected", "reject_selected"]
    readonly_fields = ["summary", "artwork_preview", "audio_properties", "findings"]
    fields = ["summary", "artwork_preview", "audio_properties", "findings"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReleaseInReview]:
        return (
            super()
            .get_queryset(request)
            .filter(status__in=[ReleaseStatus.SUBMITTED, ReleaseStatus.IN_REVIEW])
            .select_related("organization")
            .prefetch_related("assets")
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the page is read-only; reviewing is done by the actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        """Shows the review actions to roles that may review in some organization; each
        release is still checked against the role in its own organization."""
        return admin_allows(request, Capability.RELEASE_REVIEW)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<uuid:release_id>/artwork/",
                self.admin_site.admin_view(self.artwork_view),
                name="distribution_releaseinreview_artwork",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "title": "QC queue: submitted and in review, oldest first",
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        release = self.get_object(request, object_id)
        context = {
            "can_review": release is not None
            and admin_allows(request, Capability.RELEASE_REVIEW, release.organization_id),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def artwork_view(self, request: HttpRequest, release_id: Any) -> FileResponse:
        """The current artwork's bytes, through the storage API: media files are not public
        (and on S3 not served by this process), so reviewers get them from the admin."""
        release = self.get_queryset(request).filter(pk=release_id).first()
        asset = _current(list(release.assets.all()), kind=AssetKind.ARTWORK) if release else None
        if asset is None:
            raise Http404("No artwork.")
        response = FileResponse(asset.file.open("rb"), content_type=asset.content_type)
        response["Cache-Control"] = "private, max-age=300"
        return response

    def _artwork_url(self, obj: Release) -> str:
        return reverse("admin:distribution_releaseinreview_artwork", args=[obj.pk])

    @admin.display(description="Artwork")
    def artwork_thumbnail(self, obj: Release) -> str:
        asset = _current(list(obj.assets.all()), kind=AssetKind.ARTWORK)
        if asset is None:
            return "—"
        return format_html(
            '<img src="{}" alt="" loading="lazy" style="width:64px;height:64px;object-fit:cover">',
            self._artwork_url(obj),
        )

    @admin.display(description="Release")
    def summary(self, obj: Release) -> str:
        return format_html(
            "{} {} · UPC {} · release date {} · submitted {}",
            obj.title,
            f"({obj.version})" if obj.version else "",
            obj.upc or "—",
            obj.release_date or "—",
            obj.submitted_at or "—",
        )

    @admin.display(description="Artwork preview")
    def artwork_preview(self, obj: Release) -> str:
        asset = _current(list(obj.assets.all()), kind=AssetKind.ARTWORK)
        if asset is None:
            return "No artwork uploaded."
        a = asset.analysis
        return format_html(
            '<img src="{}" alt="" style="max-width:300px"><br>{} {}x{} {} · {} bytes · {}',
            self._artwork_url(obj),
            a.get("format", "?"),
            a.get("width", "?"),
            a.get("height", "?"),
            a.get("color_mode", "?"),
            asset.size_bytes,
            asset.status if asset.status != "unreadable" else f"unreadable: {asset.error}",
        )

    @admin.display(description="Audio")
    def audio_properties(self, obj: Release) -> str:
        tracks = list(obj.tracks.all())
        assets = list(Asset.objects.filter(track__release=obj, superseded_at__isnull=True))
        rows = []
        for track in tracks:
            asset = _current(assets, track_id=track.pk)
            a = asset.analysis if asset else {}
            rows.append(
                (
                    f"{track.disc_number}-{track.track_number:02d}",
                    track.title,
                    track.isrc or "—",
                    f"{a.get('container', '—')} {a.get('bit_depth', '?')} bit "
                    f"{a.get('sample_rate', '?')} Hz {a.get('channels', '?')} ch "
                    f"{a.get('duration_seconds', '?')} s"
                    if asset and asset.status == "ready"
                    else (f"{asset.status} {asset.error}" if asset else "no audio"),
                )
            )
        return format_html(
            "<table><tr><th>#</th><th>Title</th><th>ISRC</th><th>Audio</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Validation findings")
    def findings(self, obj: Release) -> str:
        return render_findings(obj)

    def _apply(self, request: HttpRequest, queryset: QuerySet[Any], verb: str, call: Any) -> None:
        done, refused = [], []
        for release in queryset:
            if not admin_allows(request, Capability.RELEASE_REVIEW, release.organization_id):
                refused.append(f"{release.title}: your role may not review releases")
                continue
            try:
                call(release)
                done.append(release.title)
            except ApplicationError as exc:
                refused.append(f"{release.title}: {exc.message}")
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not {verb.lower()}: {'; '.join(refused)}", messages.ERROR)

    @admin.action(description="Start review of selected releases", permissions=["review"])
    def start_review_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._apply(
            request,
            queryset,
            "Review started",
            lambda r: review.release_start_review(release=r, actor=_actor(request)),
        )

    @admin.action(description="Approve selected releases", permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._apply(
            request,
            queryset,
            "Approved",
            lambda r: review.release_approve(release=r, actor=_actor(request)),
        )

    @admin.action(description="Reject selected releases (with a reason)…", permissions=["review"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") == "yes" and reason:
            self._apply(
                request,
                queryset,
                "Rejected",
                lambda r: review.release_reject(release=r, actor=_actor(request), reason=reason),
            )
            return None
        return TemplateResponse(
            request,
            "admin/distribution/releaseinreview/reject.html",
            {
                **self.admin_site.each_context(request),
                "releases": list(queryset),
                "reason": reason,
                "error": "A reason is required." if request.POST.get("confirm") == "yes" else "",
                "title": "Reject releases",
            },
        )
