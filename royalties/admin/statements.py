"""Statements (lines, payments, CSV) and accounting periods (generate, close, what no split
covers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_access import (
    ORGANIZATION_FILTER,
    OrganizationRoleAdmin,
    OrganizationRoleInline,
)
from accounts.roles import Capability, user_has_capability
from distribution.models import Release, Track
from enterprise_suite.errors import ApplicationError
from royalties.models import (
    AccountingPeriod,
    Statement,
    StatementLine,
)
from royalties.selectors import period_statements, statement_payments
from royalties.services.statements import period_close, period_unallocated, statements_generate
from royalties.statement_csv import LINE_FIELDS, statement_csv_response

UNALLOCATED_SHOWN = 50  # groups listed on a period's page; the API lists them all


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
    # A period's month and organization are what its sales and statements count in.
    readonly_fields = ["organization", "month", "closed_at", "statement_count", "unallocated"]
    actions = ["generate_statements", "close_periods"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # periods open with their first report or payment (or by the API)

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
        # Oldest first: periods close in order, so several selected close in one go.
        for period in periods.select_related("organization").order_by("organization", "month"):
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
            self.message_user(
                request, f"{period} ({period.organization}): {exc.message}", messages.ERROR
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
        except ApplicationError as exc:  # exchange rates missing (it names them)
            return exc.message
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
