"""Royalties in the admin panel: sales reports with progress and errors, the unmatched queue
with a match action, statements with their lines and CSV, periods with actions to generate
their statements and close them, and each period's earnings on no statement.
Writes go through the services; staff see their own organizations' rows and act by their
role there (accounts.admin_access)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_access import (
    ORGANIZATION_FILTER,
    OrganizationRoleAdmin,
    OrganizationRoleInline,
    admin_allows,
    admin_organization_ids,
)
from accounts.models import Organization
from accounts.roles import Capability, user_has_capability
from distribution.models import Release, Track
from enterprise_suite.errors import ApplicationError
from royalties.choices import ReportStatus
from royalties.models import (
    AccountingPeriod,
    ExchangeRate,
    Payee,
    Payment,
    RecoupableExpense,
    ReportProduct,
    SalesReport,
    Split,
    Statement,
    StatementLine,
    UnmatchedProduct,
)
from royalties.parsers import LAYOUTS
from royalties.selectors import period_statements, statement_payments
from royalties.services.payments import payment_delete, payment_record
from royalties.services.report_delete import report_closed_periods, sales_report_delete
from royalties.services.reports import (
    progress_key,
    received_from_stream,
    report_product_match,
    sales_report_upload,
)
from royalties.services.statements import period_close, period_unallocated, statements_generate
from royalties.statement_csv import LINE_FIELDS, statement_csv_response

UNALLOCATED_SHOWN = 50  # groups listed on a period's page; the API lists them all


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
        products = ReportProduct.objects.filter(report__in=reports).count()
        lines = sum(report.lines_loaded for report in reports)
        summary = [format_html("{}: {} product(s), {} sales line(s)", report, products, lines)
                   for report in reports]  # fmt: skip
        counts = {"sales reports": len(reports), "report products": products, "sales lines": lines}
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


class StatementLineInline(OrganizationRoleInline, admin.TabularInline[StatementLine, Statement]):
    model = StatementLine
    extra = 0
    can_delete = False
    fields = readonly_fields = LINE_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatementLine]:
        return super().get_queryset(request).select_related("release", "track")


@admin.register(Statement)
class StatementAdmin(OrganizationRoleAdmin):
    list_display = [
        "payee",
        "period",
        "status",
        "opening_balance",
        "earnings",
        "recoupment",
        "payments",
        "closing_balance",
        "currency",
    ]
    list_filter = ["status", "period__month", ORGANIZATION_FILTER]
    search_fields = ["payee__name"]
    inlines = [StatementLineInline]
    readonly_fields = ["download", *(f.name for f in Statement._meta.fields), "payment_entries"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # statements are generated from the period

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # drafts are rebuilt by generating the period's again; final ones stay

    def get_urls(self) -> list[Any]:
        download = self.admin_site.admin_view(self.csv_view)
        return [
            path("<path:object_id>/csv/", download, name="royalties_statement_csv"),
            *super().get_urls(),
        ]

    def csv_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        """The statement's CSV, as the API gives it, for staff who may see the statement."""
        statement = self.get_object(request, object_id)
        if statement is None or not self.has_view_permission(request, statement):
            raise Http404("No such statement.")
        return statement_csv_response(statement)

    @admin.display(description="Payment entries")
    def payment_entries(self, statement: Statement) -> str:
        """The payments that make up its `payments` figure."""
        if statement.pk is None:
            return "-"
        found = list(statement_payments(statement))
        if not found:
            return "None"
        return format_html(
            "<table><tr><th>paid on</th><th>reference</th><th>amount</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
                (
                    (reverse("admin:royalties_payment_change", args=[p.pk]), p.paid_on,
                     p.reference or "-", p.amount)
                    for p in found
                ),
            ),
        )  # fmt: skip

    @admin.display(description="CSV")
    def download(self, statement: Statement) -> str:
        if statement.pk is None:
            return "-"
        url = reverse("admin:royalties_statement_csv", args=[statement.pk])
        return format_html('<a href="{}">Download the statement as CSV</a>', url)


@admin.register(AccountingPeriod)
class AccountingPeriodAdmin(OrganizationRoleAdmin):
    """Months of sales: their statements are generated (drafts, again and again) and then
    the period is closed (final), by the actions here, the API or `generate_statements`."""

    list_display = ["__str__", "organization", "statement_count", "closed_at"]
    list_filter = [ORGANIZATION_FILTER]
    readonly_fields = ["closed_at", "statement_count", "unallocated"]
    actions = ["generate_statements", "close_periods"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A period's month and organization are what its sales and statements count in.
        if obj is None:
            return self.readonly_fields
        return ["organization", "month", *self.readonly_fields]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A closed month must stay closed: deleted, a late report would open it again.
        if obj is not None and obj.is_closed:
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountingPeriod]:
        return super().get_queryset(request).annotate(statement_total=Count("statements"))

    @admin.display(description="Statements", ordering="statement_total")
    def statement_count(self, period: AccountingPeriod) -> str:
        if period.pk is None:
            return "-"
        count = getattr(period, "statement_total", None)
        if count is None:  # a period not read through get_queryset
            count = period_statements(period).count()
        url = reverse("admin:royalties_statement_changelist") + f"?period__exact={period.pk}"
        return format_html('<a href="{}">{} {}</a>', url, count,
                           "final" if period.is_closed else "draft")  # fmt: skip

    def _writable(
        self, request: HttpRequest, periods: QuerySet[AccountingPeriod]
    ) -> list[AccountingPeriod]:
        """The selected periods whose organization lets the user write; a message for the
        others."""
        allowed = []
        for period in periods.select_related("organization"):
            if user_has_capability(request.user, period.organization_id, Capability.CATALOG_WRITE):
                allowed.append(period)
            else:
                self.message_user(
                    request,
                    f"{period} ({period.organization}): your role does not allow this.",
                    messages.ERROR,
                )
        return allowed

    def _run(self, request: HttpRequest, period: AccountingPeriod, service: Any) -> None:
        try:
            service(period=period, actor=request.user)
        except ApplicationError as exc:  # closed, or exchange rates missing
            missing = exc.details.get("missing") if isinstance(exc.details, dict) else None
            detail = f" Missing: {', '.join(missing)}." if missing else ""
            self.message_user(
                request, f"{period} ({period.organization}): {exc.message}{detail}", messages.ERROR
            )
            return
        period.refresh_from_db()
        count = period_statements(period).count()
        outcome = "closed, with" if period.is_closed else "now has"
        kind = "final" if period.is_closed else "draft"
        self.message_user(
            request,
            f"{period} ({period.organization}) {outcome} {count} {kind} statement(s).",
            messages.SUCCESS,
        )

    @admin.action(description="Generate the draft statements of the selected periods")
    def generate_statements(
        self, request: HttpRequest, queryset: QuerySet[AccountingPeriod]
    ) -> None:
        for period in self._writable(request, queryset):
            self._run(request, period, statements_generate)

    @admin.action(description="Close the selected periods (final statements)")
    def close_periods(
        self, request: HttpRequest, queryset: QuerySet[AccountingPeriod]
    ) -> HttpResponse | None:
        """Asks first: a closed period's statements can never change again."""
        if "apply" in request.POST:
            for period in self._writable(request, queryset):
                self._run(request, period, period_close)
            return None
        return render(
            request,
            "admin/royalties/close_periods.html",
            {
                **self.admin_site.each_context(request),
                "title": "Close accounting periods",
                "periods": queryset.select_related("organization"),
                "action": "close_periods",
                "opts": self.model._meta,
            },
        )

    @admin.display(description="Earnings on no statement")
    def unallocated(self, period: AccountingPeriod) -> str:
        """What no split covers (`statements.period_unallocated`), largest first."""
        if period.pk is None:
            return "-"
        try:
            found = period_unallocated(period=period)
        except ApplicationError as exc:  # exchange rates missing
            return f"{exc.message} {', '.join(exc.details.get('missing', []))}"
        if not found.groups:
            return "None: every matched sale of the period is on a statement."
        names = dict(
            Track.objects.filter(pk__in=[k[0] for k in found.groups]).values_list("pk", "title")
        )
        names |= dict(
            Release.objects.filter(pk__in=[k[1] for k in found.groups]).values_list("pk", "title")
        )
        largest = found.largest_first()
        return format_html(
            "<p>{} {} in {} group(s): no split is valid for them in this period (the largest "
            "{} here; <code>GET /api/v1/accounting-periods/{}/unallocated/</code> lists all)."
            "</p>"
            "<table><tr><th>track or release</th><th>store</th><th>territory</th>"
            "<th>report lines</th><th>amount</th></tr>{}</table>",
            found.total,
            found.currency,
            len(largest),
            min(len(largest), UNALLOCATED_SHOWN),
            period.pk,
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (names.get(track or release, track or release), store, territory,
                     group.lines, group.cents)
                    for (track, release, store, territory), group in largest[:UNALLOCATED_SHOWN]
                ),
            ),
        )  # fmt: skip


@admin.register(ExchangeRate)
class ExchangeRateAdmin(OrganizationRoleAdmin):
    list_display = ["currency", "month", "rate", "organization"]
    list_filter = ["currency", ORGANIZATION_FILTER]


@admin.register(Payee)
class PayeeAdmin(OrganizationRoleAdmin):
    list_display = ["name", "email", "artist", "organization"]
    list_select_related = ["artist", "organization"]
    list_filter = [ORGANIZATION_FILTER]
    search_fields = ["name", "email"]
    raw_id_fields = ["artist"]


@admin.register(Split)
class SplitAdmin(OrganizationRoleAdmin):
    """Read-only here: a track's splits must sum to 100 together, which the API checks when
    they are set as a whole (`POST /api/v1/splits/`); editing one row could break that."""

    list_display = ["payee", "track", "release", "percent", "valid_from"]
    list_select_related = ["payee", "track", "release"]
    list_filter = [ORGANIZATION_FILTER]
    write_capability = None  # superusers only

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(OrganizationRoleAdmin):
    """Payments are recorded here through the same service as the API (the organization is
    the payee's, the period the month paid or the next open one), never edited, and deleted
    only while their period is open."""

    list_display = ["paid_on", "payee", "amount", "currency", "period", "reference",
                    "recorded_by"]  # fmt: skip
    list_select_related = ["payee", "period", "recorded_by"]
    list_filter = ["period__month", ORGANIZATION_FILTER]
    search_fields = ["payee__name", "reference"]
    fields = ["payee", "amount", "paid_on", "reference"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [f.name for f in Payment._meta.fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is None else self.get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.period.is_closed:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Payment, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied("Payments are not edited; delete it and record it again.")
        payee = obj.payee
        if not user_has_capability(request.user, payee.organization_id, Capability.CATALOG_WRITE):
            raise PermissionDenied
        recorded = payment_record(
            organization=payee.organization,
            payee=payee,
            amount=obj.amount,
            paid_on=obj.paid_on,
            reference=obj.reference,
            actor=request.user,  # type: ignore[arg-type]
        )
        for model_field in Payment._meta.concrete_fields:  # the admin goes on with `obj`
            setattr(obj, model_field.attname, getattr(recorded, model_field.attname))
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Payment) -> None:
        payment_delete(payment=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        for payment in queryset.select_related("period"):
            try:
                payment_delete(payment=payment, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{payment}: {exc.message}", messages.ERROR)


@admin.register(RecoupableExpense)
class RecoupableExpenseAdmin(OrganizationRoleAdmin):
    list_display = ["description", "release", "amount", "incurred_on"]
    list_select_related = ["release"]
    list_filter = [ORGANIZATION_FILTER]
    raw_id_fields = ["release"]
