"""The release page's deliveries: per store, with status badges, the last attempt's error and
the store's acknowledgement text; and the actions staff take on them (redeliver, take down,
preview the ERN a store would receive), through the same services as the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from accounts.admin_access import admin_allows
from accounts.models import User
from accounts.roles import Capability
from distribution.models import Delivery, DeliveryAttempt, Release, Store
from distribution.services import delivery as delivery_services
from enterprise_suite.errors import ApplicationError


def status_badge(status: str) -> str:
    return format_html('<span class="es-badge es-badge-{}">{}</span>', status, status)


def with_last_attempt_error(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """The deliveries with their last attempt's error (`last_attempt_error`), read in the same
    query: a delivery retried many times need not load every attempt to show the last."""
    last = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-pk")
    return deliveries.annotate(last_attempt_error=Subquery(last.values("error")[:1]))


def last_error(delivery: Delivery) -> str:
    """The last attempt's error, else the delivery's own (e.g. a store's rejection).
    `delivery` comes from `with_last_attempt_error`."""
    return getattr(delivery, "last_attempt_error", None) or delivery.last_error


def release_deliveries(release: Release) -> list[Delivery]:
    return list(
        with_last_attempt_error(Delivery.objects.filter(release=release))
        .select_related("store")
        .order_by("store__name", "-created_at")
    )


def render_deliveries(release: Release) -> str:
    deliveries = release_deliveries(release)
    if not deliveries:
        return "No deliveries yet: approval sends the release to its chosen stores."
    rows = (
        (
            delivery.store.code,
            reverse("admin:distribution_delivery_change", args=[delivery.pk]),
            delivery.store.name,
            delivery.kind,
            status_badge(delivery.status),
            delivery.attempt_count,
            last_error(delivery) or "—",
            delivery.store_message or "—",
            delivery.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
        for delivery in deliveries
    )
    return format_html(
        '<table class="es-deliveries"><tr><th>Store</th><th>Kind</th><th>Status</th>'
        "<th>Attempts</th><th>Last error</th><th>Store's acknowledgement</th><th>Updated</th>"
        "</tr>{}</table>",
        format_html_join(
            "",
            '<tr data-store="{}"><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
            '<td class="es-error">{}</td><td class="es-ack">{}</td><td>{}</td></tr>',
            rows,
        ),
    )


class ReleaseDeliveryActions(admin.ModelAdmin[Any]):
    """Mixed into the release admin: the deliveries panel, its buttons and bulk actions."""

    actions = ["redeliver_selected", "takedown_selected"]

    @admin.display(description="Deliveries")
    def deliveries_panel(self, obj: Release) -> str:
        if obj.pk is None:
            return "—"
        return render_deliveries(obj)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request, Capability.CATALOG_WRITE)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Where the release stands with the stores comes first on its page.
        fields = list(super().get_fields(request, obj))
        if obj is not None and "deliveries_panel" in fields:
            fields.remove("deliveries_panel")
            fields.insert(0, "deliveries_panel")
        return fields

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:release_id>/redeliver/",
                view(require_POST(self.redeliver_view)),
                name="distribution_release_redeliver",
            ),
            path(
                "<uuid:release_id>/takedown/",
                view(require_POST(self.takedown_view)),
                name="distribution_release_takedown",
            ),
            path(
                "<uuid:release_id>/preview/<slug:store_code>/",
                view(self.preview_view),
                name="distribution_release_preview",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        release = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if release is not None:
            context["can_send"] = admin_allows(
                request, Capability.CATALOG_WRITE, release.organization_id
            )
            context["preview_stores"] = list(Store.objects.filter(is_active=True))
        return super().change_view(request, object_id, form_url, context)

    # --- one release, from its page -----------------------------------------------------------

    def _release(self, request: HttpRequest, release_id: Any, capability: Capability) -> Release:
        release = get_object_or_404(self.get_queryset(request), pk=release_id)
        if not admin_allows(request, capability, release.organization_id):
            raise Http404("No such release.")  # as the API: no hint that it exists
        return release

    def _run(
        self, request: HttpRequest, releases: list[Release], verb: str, call: Callable[..., Any]
    ) -> None:
        done, refused = [], []
        for release in releases:
            if not admin_allows(request, Capability.CATALOG_WRITE, release.organization_id):
                refused.append(f"{release.title}: your role may not send deliveries")
                continue
            try:
                deliveries = call(release)
                stores = ", ".join(d.store.name for d in deliveries)
                done.append(f"{release.title} ({stores})")
            except ApplicationError as exc:
                refused.append(f"{release.title}: {exc.message}")
        if done:
            self.message_user(request, f"{verb}: {'; '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not {verb.lower()}: {'; '.join(refused)}", messages.ERROR)

    def _redeliver(self, release: Release) -> list[Delivery]:
        return delivery_services.release_redeliver(release=release)

    def _takedown(self, release: Release, actor: User) -> list[Delivery]:
        return delivery_services.release_takedown(release=release, actor=actor)

    def redeliver_view(self, request: HttpRequest, release_id: Any) -> HttpResponse:
        release = self._release(request, release_id, Capability.CATALOG_READ)
        self._run(request, [release], "Redelivering", self._redeliver)
        return HttpResponseRedirect(reverse("admin:distribution_release_change", args=[release.pk]))

    def takedown_view(self, request: HttpRequest, release_id: Any) -> HttpResponse:
        release = self._release(request, release_id, Capability.CATALOG_READ)
        actor = request.user
        assert isinstance(actor, User)
        self._run(request, [release], "Taking down", lambda r: self._takedown(r, actor))
        return HttpResponseRedirect(reverse("admin:distribution_release_change", args=[release.pk]))

    def preview_view(self, request: HttpRequest, release_id: Any, store_code: str) -> HttpResponse:
        release = self._release(request, release_id, Capability.CATALOG_READ)
        store = get_object_or_404(Store, code=store_code, is_active=True)
        xml, errors = delivery_services.release_preview(release=release, store=store)
        return TemplateResponse(
            request,
            "admin/distribution/release/preview.html",
            {
                **self.admin_site.each_context(request),
                "title": f"ERN preview for {store.name}",
                "release": release,
                "store": store,
                "xml": xml,
                "errors": errors,
                "opts": self.model._meta,
            },
        )

    # --- bulk -------------------------------------------------------------------------------

    @admin.action(description="Redeliver selected releases (ERN update)", permissions=["send"])
    def redeliver_selected(self, request: HttpRequest, queryset: QuerySet[Release]) -> None:
        self._run(request, list(queryset), "Redelivering", self._redeliver)

    @admin.action(description="Take down selected releases", permissions=["send"])
    def takedown_selected(self, request: HttpRequest, queryset: QuerySet[Release]) -> None:
        actor = request.user
        assert isinstance(actor, User)
        self._run(request, list(queryset), "Taking down", lambda r: self._takedown(r, actor))
