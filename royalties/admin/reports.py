"""Sales reports (upload, progress, errors, deletion) and the unmatched products queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import format_html, format_html_join

from accounts.admin_access import (
    ORGANIZATION_FILTER,
    OrganizationRoleAdmin,
    admin_allows,
    admin_organization_ids,
)
from accounts.models import Organization
from accounts.roles import Capability, user_has_capability
from distribution.models import Release, Track
from enterprise_suite.errors import ApplicationError
from royalties.choices import ReportStatus
from royalties.models import (
    ReportProduct,
    SalesReport,
    UnmatchedProduct,
)
from royalties.parsers import LAYOUTS
from royalties.services.report_delete import report_closed_periods, sales_report_delete
from royalties.services.reports import (
    progress_key,
    received_from_stream,
    report_product_match,
    sales_report_upload,
)


class SalesReportUploadForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    store = forms.CharField(max_length=50, help_text="The store that sent it, e.g. spotify.")
    layout = forms.ChoiceField(
        required=False,
        choices=[("", "Detect from the file"), *((code, code) for code in sorted(LAYOUTS))],
    )
    period = forms.DateField(
        required=False,
        input_formats=["%Y-%m"],
        help_text="YYYY-MM, only if the file does not say which month it covers.",
    )
    file = forms.FileField()


@admin.register(SalesReport)
class SalesReportAdmin(OrganizationRoleAdmin):
    list_display = [
        "__str__",
        "organization",
        "layout",
        "period",
        "status",
        "progress",
        "lines_bad",
        "lines_matched",
        "created_at",
    ]
    list_filter = ["status", "layout", "store_code", ORGANIZATION_FILTER]
    search_fields = ["original_filename", "checksum", "store_code"]
    # The outcome first: what staff open a report for.
    readonly_fields = [
        "status",
        "progress",
        "error_list",
        *(f.name for f in SalesReport._meta.fields if f.name not in ("status", "errors")),
    ]
    fields = tuple(readonly_fields)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # uploads have their own page (upload/), not a model form

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Only while its sales count in open periods (and it is not being imported)."""
        if obj is not None and (obj.status == ReportStatus.IMPORTING or report_closed_periods(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """What a deletion removes, counted: Django would list every sales line (millions)."""
        reports = list(objs)
        products = dict(
            ReportProduct.objects.filter(report__in=reports)
            .values("report")
            .annotate(count=Count("id"))
            .values_list("report", "count")
        )
        summary = [
            format_html("{}: {} product(s), {} sales line(s)", report,
                        products.get(report.pk, 0), report.lines_loaded)
            for report in reports
        ]  # fmt: skip
        counts = {
            "sales reports": len(reports),
            "report products": sum(products.values()),
            "sales lines": sum(report.lines_loaded for report in reports),
        }
        return summary, counts, set(), []

    def delete_model(self, request: HttpRequest, obj: SalesReport) -> None:
        sales_report_delete(report=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SalesReport]) -> None:
        for report in queryset:
            try:
                sales_report_delete(report=report, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{report}: {exc.message}", messages.ERROR)

    def get_urls(self) -> list[Any]:
        upload = self.admin_site.admin_view(self.upload_view)
        return [
            path("upload/", upload, name="royalties_salesreport_upload"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra = {
            "may_upload": admin_allows(request, Capability.CATALOG_WRITE),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a report through the same service as the API; its import is queued."""
        if not admin_allows(request, Capability.CATALOG_WRITE):
            raise PermissionDenied
        form = SalesReportUploadForm(request.POST or None, request.FILES or None)
        allowed = admin_organization_ids(request, Capability.CATALOG_WRITE)
        organizations = Organization.objects.all()
        if allowed is not None:
            organizations = organizations.filter(pk__in=allowed)
        form.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            upload = received_from_stream(data["file"], filename=data["file"].name)
            try:
                report = sales_report_upload(
                    organization=data["organization"],
                    upload=upload,
                    store_code=data["store"],
                    layout=data["layout"] or None,
                    period=data["period"],
                    uploaded_by=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, f"{report} was uploaded; its import is queued.", messages.SUCCESS
                )
                return redirect("admin:royalties_salesreport_change", report.pk)
            finally:
                upload.close()
        return render(
            request,
            "admin/royalties/salesreport/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": "Upload a sales report",
                "form": form,
                "opts": self.model._meta,
            },
        )

    @admin.display(description="progress")
    def progress(self, report: SalesReport) -> str:
        if report.status == ReportStatus.IMPORTING:
            lines = cache.get(progress_key(report.pk))
            return f"importing: {lines or 0:,} lines read"
        if report.status == ReportStatus.IMPORTED:
            return f"{report.lines_loaded:,} / {report.lines_total:,} loaded"
        return str(report.status)

    @admin.display(description="errors")
    def error_list(self, report: SalesReport) -> str:
        if not report.errors:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>line {}: {}</li>", ((e["line"], e["reason"]) for e in report.errors)
            ),
        )


class MatchForm(forms.Form):
    _selected_action = forms.CharField(widget=forms.MultipleHiddenInput)
    track = forms.ModelChoiceField(queryset=Track.objects.none(), required=False)
    release = forms.ModelChoiceField(queryset=Release.objects.none(), required=False)


@admin.register(UnmatchedProduct)
class UnmatchedProductAdmin(OrganizationRoleAdmin):
    """Products (an ISRC and/or UPC of a report) no track or release matched; select some
    and match them to a track or release: all of their lines then count."""

    list_display = ["isrc", "upc", "report", "lines", "period"]
    list_filter = ["period__month", ORGANIZATION_FILTER]
    list_select_related = ["report", "period"]
    search_fields = ["isrc", "upc"]
    actions = ["match_products"]
    readonly_fields = [f.name for f in UnmatchedProduct._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UnmatchedProduct]:
        return super().get_queryset(request).filter(release__isnull=True)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a product is part of its report's import: delete the report instead

    @admin.action(description="Match the selected products to a track or release")
    def match_products(
        self, request: HttpRequest, queryset: QuerySet[UnmatchedProduct]
    ) -> HttpResponse | None:
        organizations = set(queryset.values_list("organization_id", flat=True))
        if len(organizations) != 1:
            self.message_user(request, "Select products of one organization.", messages.ERROR)
            return None
        (organization_id,) = organizations
        if not user_has_capability(request.user, organization_id, Capability.CATALOG_WRITE):
            self.message_user(request, "Your role does not allow this.", messages.ERROR)
            return None
        form = MatchForm(request.POST if "apply" in request.POST else None)
        form.fields["track"].queryset = Track.objects.filter(organization_id=organization_id)  # type: ignore[attr-defined]
        form.fields["release"].queryset = Release.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id
        )
        if "apply" in request.POST and form.is_valid():
            matched = lines = 0
            for product in queryset:
                try:
                    report_product_match(
                        product=product,
                        track=form.cleaned_data["track"],
                        release=form.cleaned_data["release"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    matched += 1
                    lines += product.lines
                except ApplicationError as exc:
                    self.message_user(request, f"{product}: {exc.message}", messages.ERROR)
            self.message_user(
                request, f"Matched {matched} product(s), {lines} line(s).", messages.SUCCESS
            )
            return None
        return render(
            request,
            "admin/royalties/match_products.html",
            {
                **self.admin_site.each_context(request),
                "title": "Match products",
                "products": queryset.select_related("report"),
                "form": form,
                "action": "match_products",
                "opts": self.model._meta,
            },
        )
