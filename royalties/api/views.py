"""Royalties endpoints: sales reports, unmatched lines, periods, statements (with CSV export
and traces) and earnings; rates, payees, splits, expenses and payments are in
`money_views`. Thin: parse, call, render."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Capability
from distribution import selectors as catalog
from distribution.api.uploads import receive_upload
from enterprise_suite.api.views import ApiViewSet
from royalties import selectors
from royalties.api import serializers as s
from royalties.choices import ReportStatus
from royalties.models import (
    AccountingPeriod,
    ReportProduct,
    SalesLine,
    SalesReport,
    Statement,
)
from royalties.services import periods, report_delete, reports, statements
from royalties.statement_csv import statement_csv_response


class RoyaltiesViewSet(ApiViewSet):
    read_capability = Capability.CATALOG_READ
    write_capability = Capability.CATALOG_WRITE


class SalesReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    store = django_filters.CharFilter(field_name="store_code")

    class Meta:
        model = SalesReport
        fields = ["status", "store", "layout"]


class SalesReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """Sales reports stores sent: upload one, follow its import, read its errors, delete one
    uploaded by mistake."""

    queryset = SalesReport.objects.none()
    serializer_class = s.SalesReportSerializer
    filterset_class = SalesReportFilter
    ordering_fields = ["created_at", "period"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet[SalesReport]:
        return selectors.sales_report_list(organization=self.organization)

    def get_object(self) -> SalesReport:
        return selectors.sales_report_get(
            organization=self.organization, report_id=self.kwargs["pk"]
        )

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(
                description="It is being imported, or its sales count in a closed period."
            ),
        }
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        """Delete the report, its lines and its file, while the periods its sales count in
        are open (a closed period's statements trace to its lines)."""
        report_delete.sales_report_delete(report=self.get_object(), actor=self.membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[s.SalesReportUploadSerializer],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "text/csv": OpenApiTypes.BINARY,
            "application/gzip": OpenApiTypes.BINARY,
            "application/zip": OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        responses={
            201: s.SalesReportSerializer,
            400: OpenApiResponse(
                description="Bad parameters, an undetectable layout, or an archive that "
                "cannot be read (damaged, encrypted, not exactly one file)."
            ),
            409: OpenApiResponse(description="The same report was already uploaded."),
            413: OpenApiResponse(
                description="The file is larger than the configured limit, or its text is "
                "once decompressed."
            ),
        },
    )
    def create(self, request: Request) -> Response:
        """Upload a report (multipart field `file`, or the raw body; plain, gzipped, or a
        zip holding one report) with `store` and optionally `layout` and `period` (YYYY-MM)
        as query parameters. Its import runs in the background; poll the report for its
        status, counts and errors."""
        params = self.validated(s.SalesReportUploadSerializer, request.query_params)
        upload = receive_upload(request._request, max_bytes=settings.SALES_REPORT_MAX_BYTES)
        try:
            report = reports.sales_report_upload(
                organization=self.organization,
                upload=upload,
                store_code=params["store"],
                layout=params.get("layout"),
                period=params.get("period"),
                uploaded_by=self.membership.user,
            )
        finally:
            upload.close()
        report.refresh_from_db()
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.SalesLineSerializer(many=True))
    @action(detail=True, methods=["get"])
    def lines(self, request: Request, pk: str | None = None) -> Response:
        """The report's loaded lines, in file order."""
        report = self.get_object()
        page = self.paginate_queryset(selectors.report_lines(report))
        return self.get_paginated_response(s.SalesLineSerializer(page, many=True).data)


class SalesLineFilter(django_filters.FilterSet):
    matched = django_filters.BooleanFilter(
        field_name="product__release",
        lookup_expr="isnull",
        exclude=True,
        help_text="false: the lines waiting for their product to be matched.",
    )
    report = django_filters.UUIDFilter(field_name="product__report_id")
    isrc = django_filters.CharFilter(field_name="product__isrc")
    upc = django_filters.CharFilter(field_name="product__upc")

    class Meta:
        model = SalesLine
        fields = ["matched", "report", "isrc", "upc"]


class SalesLineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """Report lines; `?matched=false` lists the lines whose product waits to be matched."""

    queryset = SalesLine.objects.none()
    serializer_class = s.SalesLineSerializer
    filterset_class = SalesLineFilter
    ordering_fields = ["line_number"]

    def get_queryset(self) -> QuerySet[SalesLine]:
        return selectors.sales_line_list(organization=self.organization)

    def get_object(self) -> SalesLine:
        return selectors.sales_line_get(organization=self.organization, line_id=self.kwargs["pk"])

    @extend_schema(request=s.SalesLineMatchSerializer, responses=s.SalesLineSerializer)
    @action(detail=True, methods=["post"])
    def match(self, request: Request, pk: str | None = None) -> Response:
        """Match the line's product (its ISRC/UPC in its report) to a track (and so its
        release) or to a release; all of the product's lines then count."""
        _match_product(self, self.get_object().product, request)
        return Response(s.SalesLineSerializer(self.get_object()).data)


def _match_product(
    view: RoyaltiesViewSet, product: ReportProduct, request: Request
) -> ReportProduct:
    data = view.validated(s.SalesLineMatchSerializer, request.data)
    track = release = None
    if "track" in data:
        track = catalog.track_get(organization=view.organization, track_id=data["track"])
    else:
        release = catalog.release_get(organization=view.organization, release_id=data["release"])
    return reports.report_product_match(
        product=product, track=track, release=release, actor=view.membership.user
    )


class ReportProductFilter(django_filters.FilterSet):
    matched = django_filters.BooleanFilter(
        field_name="release", lookup_expr="isnull", exclude=True, help_text="false: the queue."
    )
    report = django_filters.UUIDFilter(field_name="report_id")
    isrc = django_filters.CharFilter()
    upc = django_filters.CharFilter()

    class Meta:
        model = ReportProduct
        fields = ["matched", "report", "isrc", "upc"]


class ReportProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """The products (ISRC/UPC) each report names; `?matched=false` is the queue to match by
    hand, a product at a time for all of its lines."""

    queryset = ReportProduct.objects.none()
    serializer_class = s.ReportProductSerializer
    filterset_class = ReportProductFilter
    ordering_fields = ["lines"]

    def get_queryset(self) -> QuerySet[ReportProduct]:
        return selectors.report_product_list(organization=self.organization)

    def get_object(self) -> ReportProduct:
        return selectors.report_product_get(
            organization=self.organization, product_id=self.kwargs["pk"]
        )

    @extend_schema(request=s.SalesLineMatchSerializer, responses=s.ReportProductSerializer)
    @action(detail=True, methods=["post"])
    def match(self, request: Request, pk: str | None = None) -> Response:
        """Match the product to a track (and so its release) or to a release; all of its
        lines then count."""
        product = _match_product(self, self.get_object(), request)
        return Response(s.ReportProductSerializer(product).data)


def period_filter() -> django_filters.DateFilter:
    """The accounting period, as YYYY-MM."""
    return django_filters.DateFilter(
        field_name="period__month", input_formats=["%Y-%m"], help_text="YYYY-MM"
    )


class StatementFilter(django_filters.FilterSet):
    period = period_filter()

    class Meta:
        model = Statement
        fields = ["payee", "status", "period"]


class PeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """Accounting periods (months): generate draft statements, then close."""

    queryset = AccountingPeriod.objects.none()
    serializer_class = s.PeriodSerializer
    action_capabilities = {
        "statements": Capability.CATALOG_WRITE,
        "close": Capability.CATALOG_WRITE,
    }

    def get_queryset(self) -> QuerySet[AccountingPeriod]:
        return selectors.period_list(organization=self.organization)

    def get_object(self) -> AccountingPeriod:
        return selectors.period_get(organization=self.organization, period_id=self.kwargs["pk"])

    @extend_schema(
        responses={
            201: s.PeriodSerializer,
            409: OpenApiResponse(description="The month is before the latest closed period."),
        }
    )
    def create(self, request: Request) -> Response:
        """Open a month: `{"month": "YYYY-MM"}` (reports open theirs automatically); its
        period if it has one."""
        data = self.validated(s.PeriodSerializer, request.data)
        period = periods.period_open(organization=self.organization, month=data["month"])
        return Response(self.get_serializer(period).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.StatementSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def statements(self, request: Request, pk: str | None = None) -> Response:
        """(Re)generate the period's draft statements (409 once it is closed; 400 naming
        missing exchange rates)."""
        result = statements.statements_generate(
            period=self.get_object(), actor=self.membership.user
        )
        rows = Statement.objects.filter(pk__in=[x.pk for x in result]).select_related(
            "payee", "period"
        )
        return Response(s.StatementSerializer(rows, many=True).data)

    @extend_schema(
        responses={
            200: s.UnallocatedSerializer,
            400: OpenApiResponse(description="Exchange rates are missing for some sales."),
        }
    )
    @action(detail=True, methods=["get"])
    def unallocated(self, request: Request, pk: str | None = None) -> Response:
        """The period's matched earnings that no split covers, so on no statement: per track
        (or release), store and territory, as statement lines group them."""
        unallocated = statements.period_unallocated(period=self.get_object())
        return Response(s.UnallocatedSerializer(unallocated).data)

    @extend_schema(request=None, responses=s.PeriodSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Final statements; later reports count in the next period."""
        period = statements.period_close(period=self.get_object(), actor=self.membership.user)
        return Response(self.get_serializer(period).data)


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """Payees' statements; each line traces to its report lines."""

    queryset = Statement.objects.none()
    serializer_class = s.StatementSerializer
    filterset_class = StatementFilter

    def get_queryset(self) -> QuerySet[Statement]:
        return selectors.statement_list(organization=self.organization)

    def get_object(self) -> Statement:
        return selectors.statement_get(
            organization=self.organization, statement_id=self.kwargs["pk"]
        )

    def get_serializer_class(self) -> Any:
        return s.StatementDetailSerializer if self.action == "retrieve" else s.StatementSerializer

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def csv(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """The statement as CSV: one row per line, then the totals."""
        return statement_csv_response(self.get_object())

    @extend_schema(
        parameters=[OpenApiParameter("line_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=s.SalesLineSerializer(many=True),
    )
    # Not named `trace`: DRF would take a method of that name as the HTTP TRACE handler.
    @action(detail=True, methods=["get"], url_path=r"lines/(?P<line_id>[0-9]+)/trace")
    def line_trace(self, request: Request, pk: str | None = None, line_id: str = "") -> Response:
        """The report lines a statement line comes from."""
        line = selectors.statement_line_get(statement=self.get_object(), line_id=line_id)
        page = self.paginate_queryset(selectors.statement_line_trace(line))
        return self.get_paginated_response(s.SalesLineSerializer(page, many=True).data)


class EarningsViewSet(RoyaltiesViewSet):
    """Earnings in the organization's currency, grouped and filtered."""

    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(parameters=[s.EarningsQuerySerializer], responses=s.EarningsSerializer)
    def totals(self, request: Request) -> Response:
        """Totals of matched sales, grouped by track, release, store, territory or month."""
        params = self.validated(s.EarningsQuerySerializer, request.query_params)
        group_by = params.pop("group_by")
        rows, missing = selectors.earnings(
            organization=self.organization, group_by=group_by, filters=params
        )
        body = {
            "currency": self.organization.default_currency,
            "group_by": group_by,
            "results": rows,
            "missing_rates": missing,
        }
        return Response(s.EarningsSerializer(body).data)
