"""Royalties API serializers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from royalties.choices import EarningsGroup
from royalties.models import (
    AccountingPeriod,
    ExchangeRate,
    Payee,
    Payment,
    RecoupableExpense,
    ReportProduct,
    SalesLine,
    SalesReport,
    Split,
    Statement,
    StatementLine,
)
from royalties.parsers import LAYOUTS
from royalties.selectors import statement_payments
from royalties.services.statements import Unallocated


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$", "example": "2026-03"})
class MonthField(serializers.DateField):
    """A calendar month: read as YYYY-MM (or a date in it), written as YYYY-MM."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m")
        kwargs.setdefault("input_formats", ["%Y-%m", "%Y-%m-%d"])
        super().__init__(**kwargs)


class SalesReportSerializer(serializers.ModelSerializer[SalesReport]):
    period = MonthField(read_only=True, allow_null=True)
    accounting_period = serializers.SerializerMethodField()

    class Meta:
        model = SalesReport
        fields = [
            "id", "store_code", "layout", "period", "accounting_period", "original_filename",
            "size_bytes", "checksum", "status", "lines_total", "lines_loaded", "lines_bad",
            "lines_matched", "errors", "error", "imported_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_accounting_period(self, report: SalesReport) -> str | None:
        return str(report.accounting_period) if report.accounting_period_id else None


class SalesReportUploadSerializer(serializers.Serializer[Any]):
    """Query parameters (raw body) or form fields (multipart) of an upload."""

    store = serializers.CharField(max_length=50)
    layout = serializers.ChoiceField(choices=sorted(LAYOUTS), required=False)
    period = MonthField(required=False, help_text="Sales month, YYYY-MM.")


class SalesLineSerializer(serializers.ModelSerializer[SalesLine]):
    """A report line; the report, identifiers and match are its product's."""

    sale_month = MonthField()
    gross = serializers.DecimalField(max_digits=20, decimal_places=10)
    net = serializers.DecimalField(max_digits=20, decimal_places=10)
    report = serializers.UUIDField(source="product.report_id")
    line_number = serializers.IntegerField(read_only=True)
    isrc = serializers.CharField(source="product.isrc")
    upc = serializers.CharField(source="product.upc")
    track = serializers.UUIDField(source="product.track_id", allow_null=True)
    release = serializers.UUIDField(source="product.release_id", allow_null=True)
    matched_by_hand = serializers.BooleanField(source="product.matched_by_hand")

    class Meta:
        model = SalesLine
        fields = [
            "id", "report", "line_number", "store", "sale_month", "territory", "isrc", "upc",
            "usage_type", "quantity", "gross", "net", "currency", "product", "track", "release",
            "matched_by_hand",
        ]  # fmt: skip
        read_only_fields = fields


class ReportProductSerializer(serializers.ModelSerializer[ReportProduct]):
    """One ISRC/UPC of a report, what it matched, and how many of the report's lines name it."""

    period = serializers.SerializerMethodField()

    class Meta:
        model = ReportProduct
        fields = [
            "id", "report", "isrc", "upc", "lines", "track", "release", "matched_by_hand",
            "period",
        ]  # fmt: skip
        read_only_fields = fields

    def get_period(self, product: ReportProduct) -> str:
        return str(product.period)


class SalesLineMatchSerializer(serializers.Serializer[Any]):
    track = serializers.UUIDField(required=False)
    release = serializers.UUIDField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("track" in attrs) == ("release" in attrs):
            raise serializers.ValidationError({"track": ["Give either a track or a release."]})
        return attrs


class ExchangeRateSerializer(serializers.ModelSerializer[ExchangeRate]):
    month = MonthField()
    currency = serializers.CharField(min_length=3, max_length=3)

    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "month", "rate"]
        read_only_fields = ["id"]


class ExchangeRatesSetSerializer(serializers.Serializer[Any]):
    rates = ExchangeRateSerializer(many=True, allow_empty=False)


class PayeeSerializer(serializers.ModelSerializer[Payee]):
    class Meta:
        model = Payee
        fields = ["id", "name", "email", "artist", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"artist": {"required": False, "allow_null": True}}


class SplitSerializer(serializers.ModelSerializer[Split]):
    class Meta:
        model = Split
        fields = ["id", "track", "release", "payee", "percent", "valid_from"]
        read_only_fields = fields


class ShareSerializer(serializers.Serializer[Any]):
    payee = serializers.UUIDField()
    percent = serializers.DecimalField(max_digits=7, decimal_places=4)


class SplitSetSerializer(serializers.Serializer[Any]):
    track = serializers.UUIDField(required=False)
    release = serializers.UUIDField(required=False)
    valid_from = serializers.DateField()
    shares = ShareSerializer(many=True, allow_empty=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("track" in attrs) == ("release" in attrs):
            raise serializers.ValidationError({"track": ["Give either a track or a release."]})
        return attrs


class ExpenseSerializer(serializers.ModelSerializer[RecoupableExpense]):
    class Meta:
        model = RecoupableExpense
        fields = ["id", "release", "description", "amount", "incurred_on", "created_at"]
        read_only_fields = fields


class ExpenseCreateSerializer(serializers.Serializer[Any]):
    release = serializers.UUIDField()
    description = serializers.CharField(max_length=300)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    incurred_on = serializers.DateField()


class PaymentSerializer(serializers.ModelSerializer[Payment]):
    period = serializers.SerializerMethodField()
    payee_name = serializers.CharField(source="payee.name", read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "payee", "payee_name", "amount", "currency", "paid_on", "period",
                  "reference", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_period(self, payment: Payment) -> str:
        """The accounting period it counts in (YYYY-MM)."""
        return str(payment.period)


class PaymentCreateSerializer(serializers.Serializer[Any]):
    payee = serializers.UUIDField()
    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        help_text="In the organization's currency; negative for money returned.",
    )
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PeriodSerializer(serializers.ModelSerializer[AccountingPeriod]):
    month = MonthField()
    is_closed = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccountingPeriod
        fields = ["id", "month", "is_closed", "closed_at"]
        read_only_fields = ["id", "is_closed", "closed_at"]


class StatementLineSerializer(serializers.ModelSerializer[StatementLine]):
    class Meta:
        model = StatementLine
        fields = [
            "id", "release", "track", "store", "territory", "quantity", "sales_lines",
            "group_total", "percent", "amount", "recouped",
        ]  # fmt: skip
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer[Statement]):
    period = serializers.SerializerMethodField()
    payee_name = serializers.CharField(source="payee.name", read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id", "payee", "payee_name", "period", "status", "currency", "opening_balance",
            "earnings", "recoupment", "payments", "closing_balance", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_period(self, statement: Statement) -> str:
        return str(statement.period)


class StatementPaymentSerializer(serializers.ModelSerializer[Payment]):
    class Meta:
        model = Payment
        fields = ["id", "paid_on", "amount", "reference"]
        read_only_fields = fields


class StatementDetailSerializer(StatementSerializer):
    lines = StatementLineSerializer(many=True, read_only=True)
    payment_entries = serializers.SerializerMethodField(
        help_text="The payments that make up `payments`, oldest first."
    )

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines", "payment_entries"]
        read_only_fields = fields

    @extend_schema_field(StatementPaymentSerializer(many=True))
    def get_payment_entries(self, statement: Statement) -> list[dict[str, Any]]:
        return StatementPaymentSerializer(statement_payments(statement), many=True).data  # type: ignore[return-value]


class UnallocatedGroupSerializer(serializers.Serializer[Any]):
    """Sales of one track (or release) at one store in one territory, as a statement line
    would hold them, that no split set covers."""

    release = serializers.UUIDField()
    track = serializers.UUIDField(allow_null=True, help_text="Null: release-level sales.")
    store = serializers.CharField()
    territory = serializers.CharField()
    quantity = serializers.IntegerField()
    sales_lines = serializers.IntegerField(help_text="How many report lines it comes from.")
    group_total = serializers.DecimalField(
        max_digits=40, decimal_places=20, help_text="Exact, in the organization's currency."
    )
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="In cents.")


class UnallocatedSerializer(serializers.Serializer[Any]):
    """A period's `statements.Unallocated`: its groups largest first."""

    currency = serializers.CharField()
    total = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="On no statement of the period."
    )
    groups = serializers.SerializerMethodField()

    @extend_schema_field(UnallocatedGroupSerializer(many=True))
    def get_groups(self, unallocated: Unallocated) -> Any:
        rows = [
            {
                "track": track, "release": release, "store": store, "territory": territory,
                "quantity": group.quantity, "sales_lines": group.lines,
                "group_total": group.total, "amount": group.cents,
            }
            for (track, release, store, territory), group in unallocated.largest_first()
        ]  # fmt: skip
        return UnallocatedGroupSerializer(rows, many=True).data


class EarningsQuerySerializer(serializers.Serializer[Any]):
    group_by = serializers.ChoiceField(choices=EarningsGroup.choices)
    store = serializers.CharField(required=False)
    territory = serializers.CharField(required=False, min_length=2, max_length=2)
    release = serializers.UUIDField(required=False)
    track = serializers.UUIDField(required=False)
    report = serializers.UUIDField(required=False)
    month_from = MonthField(required=False)
    month_to = MonthField(required=False)
    period = MonthField(required=False, help_text="Accounting period, YYYY-MM.")


class EarningsRowSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    name = serializers.CharField(help_text="Track or release title; else the key.")
    quantity = serializers.IntegerField()
    lines = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=40, decimal_places=20)
    amount_cents = serializers.DecimalField(max_digits=20, decimal_places=2)


class EarningsSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    group_by = serializers.CharField()
    results = EarningsRowSerializer(many=True)
    missing_rates = serializers.ListField(child=serializers.CharField())
