"""Royalties: sales reports and their lines, exchange rates, payees, splits, expenses,
accounting periods and statements.

Money is `Decimal` throughout: per-line amounts keep 10 decimal places (a stream earns a
fraction of a cent); statements are in cents of the organization's currency.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q

from accounts.models import Organization
from distribution.models import Release, Track
from enterprise_suite.models import BaseModel
from royalties.choices import ReportStatus, StatementStatus, UsageType

# Per-line amounts: max_digits=20, decimal_places=10 (up to 10 integer digits, and 10 places
# for per-stream revenue). Statement amounts: max_digits=18, decimal_places=2 (cents).


class AccountingPeriod(BaseModel):
    """A calendar month of an organization's books; once closed its statements never change
    and reports arriving later are counted in the next open period."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="accounting_periods"
    )
    month = models.DateField(help_text="First day of the month.")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="accounting_period_unique_per_org"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="accounting_period_first_day"),
        ]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


def sales_report_upload_path(report: SalesReport, filename: str) -> str:
    return f"sales-reports/{report.organization_id}/{report.pk}/{filename or 'report'}"


class SalesReport(BaseModel):
    """One file of sales a store sent for a month, with its import progress and errors.

    The SHA-256 is unique per organization among reports that were not rejected or failed,
    so the same file cannot be counted twice.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sales_reports"
    )
    store_code = models.CharField(max_length=50, help_text="The store that sent the report.")
    layout = models.CharField(max_length=30, help_text="Parser used (see royalties/parsers).")
    period = models.DateField(null=True, blank=True, help_text="Sales month (first day).")
    accounting_period = models.ForeignKey(
        AccountingPeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    file = models.FileField(upload_to=sales_report_upload_path, max_length=500)
    original_filename = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    checksum = models.CharField("SHA-256", max_length=64)
    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.UPLOADED, db_index=True
    )
    lines_total = models.PositiveBigIntegerField(default=0)
    lines_loaded = models.PositiveBigIntegerField(default=0)
    lines_bad = models.PositiveBigIntegerField(default=0)
    lines_matched = models.PositiveBigIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="[{line, reason}], the first ones of each import."
    )
    error = models.TextField(blank=True, help_text="Why the report was rejected or failed.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "checksum"],
                condition=~Q(status__in=[ReportStatus.REJECTED, ReportStatus.FAILED]),
                name="sales_report_checksum_unique_per_org",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values), name="sales_report_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_code} {self.original_filename or self.pk}"


class SalesLineBlock(models.Model):
    """The block of ids one report's import owns: a line's id is `block << 32 | line number`
    and its products' ids `block << 32 | 1, 2, ...`. So a report's lines are one id range
    (which the BRIN index on the id finds), ids need no sequence call per line, and lines
    can name their products before the products are written."""

    id = models.BigAutoField(primary_key=True)
    report = models.OneToOneField(SalesReport, on_delete=models.CASCADE, related_name="line_block")

    def __str__(self) -> str:
        return f"block {self.pk} of {self.report_id}"

    @property
    def first_id(self) -> int:
        return self.pk << BLOCK_ID_BITS

    @property
    def ids(self) -> tuple[int, int]:
        """The first and last id a line or product of this block can have."""
        return self.first_id, ((self.pk + 1) << BLOCK_ID_BITS) - 1


BLOCK_ID_BITS = 32
LINE_NUMBER_MASK = (1 << BLOCK_ID_BITS) - 1  # a line's id & this = its line number


class CodeField(models.CharField):
    """An identifier code (ISRC, UPC) compared byte by byte on PostgreSQL (the "C"
    collation): codes have no language to sort by, and a language's collation costs a call
    per comparison (it was a third of the products' insert time while a unique index on
    (report, ISRC, UPC) stood; migration 0006 removed that index)."""

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


class ReportProduct(models.Model):
    """One product a sales report names (an ISRC and/or a UPC), what it matched in the
    catalog and the accounting period its lines count in.

    A million-line report names a few thousand products. Matching, by the catalog or by hand,
    happens once per product, and a line stores only its product's bigint id instead of the
    organization, period, track, release, ISRC and UPC: the narrow line is what keeps the
    COPY load of a report near the speed of a raw COPY of the file.
    """

    id = models.BigIntegerField(primary_key=True)  # from the report's SalesLineBlock
    # The import writes tens of thousands of products at once with the report, organization
    # and period it holds locked or has just read: the database does not check those three
    # per row (a deferred trigger each, at commit, cost more than writing the rows). The
    # organization and period get no index of their own: the (organization, period,
    # release) index leads with them, every query of products by period names its
    # organization, and each index is written per product.
    report = models.ForeignKey(
        SalesReport,
        on_delete=models.CASCADE,
        related_name="products",
        db_constraint=False,
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    period = models.ForeignKey(
        AccountingPeriod,
        on_delete=models.PROTECT,
        related_name="report_products",
        db_constraint=False,
        db_index=False,
    )
    isrc = CodeField("ISRC", max_length=12, blank=True)
    upc = CodeField("UPC/EAN", max_length=14, blank=True)
    # Most of a report's products may match nothing: their track and release are indexed
    # only when set (a deleted track or release finds its products all the same). Nor are
    # they checked by the database: a deferred check per matched product at the import's
    # commit; the import takes them from the organization's catalog as it reads it, and
    # Django sets them to NULL when the track or release is deleted.
    track = models.ForeignKey(
        Track,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    release = models.ForeignKey(
        Release,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    matched_by_hand = models.BooleanField(default=False)
    lines = models.PositiveBigIntegerField(default=0, help_text="How many report lines name it.")

    class Meta:
        ordering = ["report", "id"]
        # A report names each (ISRC, UPC) once by construction: its import is the only
        # writer of its products, and gives a pair one id (`loading.ProductRegistry`). A
        # unique index on (report, ISRC, UPC), in random order, was two fifths of the
        # products' insert time; the report's own index is written in order.
        indexes = [
            models.Index(fields=["report"], name="report_product_report_idx"),
            models.Index(
                fields=["organization", "period", "release"], name="report_product_period_idx"
            ),
            models.Index(
                fields=["track"], condition=Q(track__isnull=False), name="report_product_track_idx"
            ),
            models.Index(
                fields=["release"],
                condition=Q(release__isnull=False),
                name="report_product_release_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.isrc or self.upc


class UnmatchedProduct(ReportProduct):
    """The queue of report products no track or release matched (a proxy for its own admin
    page); matching one makes all of its lines count."""

    class Meta:
        proxy = True
        verbose_name = "unmatched product"
        verbose_name_plural = "unmatched products"


class SalesLine(models.Model):
    """One line of a sales report: what a store sold of a product, where and when.

    Millions of these are bulk-loaded with COPY, so the row is narrow: the report, the
    organization, the accounting period and the match are its product's. The table has no
    primary-key or foreign-key constraint and no B-tree index, one BRIN index on (id, product) (see
    migration 0003): every per-row index insert and constraint check slowed the load, and a
    report's lines are written together, so block-range indexes find them. The id is
    unique by construction (`SalesLineBlock`): `block << 32 | line number`, so the line
    number is not stored: it is the id's low bits (`line_number`), and a column less is
    a column less to send and store for each of a million rows.
    """

    id = models.BigIntegerField(primary_key=True)
    product = models.ForeignKey(
        ReportProduct,
        on_delete=models.CASCADE,
        related_name="sales_lines",
        db_index=False,
        db_constraint=False,
    )
    store = models.CharField(max_length=50)
    sale_month = models.DateField()
    territory = models.CharField(max_length=2)
    usage_type = models.CharField(max_length=10, choices=UsageType.choices)
    quantity = models.BigIntegerField()
    gross = models.DecimalField(max_digits=20, decimal_places=10)
    net = models.DecimalField(max_digits=20, decimal_places=10)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"line {self.line_number}"

    @property
    def line_number(self) -> int:
        """The line of its report this was (the header is line 1)."""
        return self.id & LINE_NUMBER_MASK


# A line's number in a query (`.alias(line_number=LINE_NUMBER)`), to order or filter by.
LINE_NUMBER = F("id").bitand(LINE_NUMBER_MASK)


class ExchangeRate(BaseModel):
    """How many units of the organization's currency one unit of `currency` was worth in a
    month; sales in that month convert at this rate."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="exchange_rates"
    )
    currency = models.CharField(max_length=3)
    month = models.DateField(help_text="First day of the month.")
    rate = models.DecimalField(max_digits=20, decimal_places=10)

    class Meta:
        ordering = ["-month", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "currency", "month"], name="exchange_rate_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.month:%Y-%m} = {self.rate}"


class Payee(BaseModel):
    """Someone paid from a track's earnings: a contributor (artist) or another party."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="payees")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    artist = models.ForeignKey(
        "distribution.Artist",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The contributor this payee is, if any.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Split(BaseModel):
    """A payee's percentage of a track's (or, for release-level sales such as album
    downloads, a release's) earnings from `valid_from` on. The shares of one target and date
    sum to 100; the newest set on or before a sale month applies."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="splits")
    percent = models.DecimalField(max_digits=7, decimal_places=4)
    valid_from = models.DateField()

    class Meta:
        ordering = ["valid_from", "payee__name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(track__isnull=False) & Q(release__isnull=True))
                | (Q(track__isnull=True) & Q(release__isnull=False)),
                name="split_one_target",
            ),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="split_percent_range"
            ),
            # One target is always NULL, and NULLs never collide in a unique index: one
            # constraint per kind of target.
            models.UniqueConstraint(
                fields=["track", "payee", "valid_from"],
                condition=Q(track__isnull=False),
                name="split_track_unique",
            ),
            models.UniqueConstraint(
                fields=["release", "payee", "valid_from"],
                condition=Q(release__isnull=False),
                name="split_release_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payee_id} {self.percent}% from {self.valid_from}"


class RecoupableExpense(BaseModel):
    """A cost advanced for a release (recording, marketing) recovered from the release's
    earnings, in the organization's currency, before any split is paid."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    description = models.CharField(max_length=300)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    incurred_on = models.DateField()

    class Meta:
        ordering = ["incurred_on"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.amount})"


class Payment(BaseModel):
    """Money the organization paid a payee (a bank transfer, say), in its currency. It counts
    in the accounting period of the month it was paid, or if that month is closed, the next
    open one; the payee's statement there takes it off the balance. A negative amount
    records money coming back (a returned transfer). Deleted only while its period is open.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="payments")
    period = models.ForeignKey(AccountingPeriod, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    paid_on = models.DateField()
    reference = models.CharField(
        max_length=200, blank=True, help_text="The transfer's reference, for reconciling."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-paid_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0),
                name="payment_amount_not_zero",
                violation_error_message="A payment cannot be zero.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.paid_on}"


class Statement(BaseModel):
    """What one payee earned in one accounting period, in the organization's currency.

    closing_balance = opening_balance + earnings - recoupment - payments; opening is the
    previous statement's closing balance, payments those counted in the period.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="statements")
    period = models.ForeignKey(
        AccountingPeriod, on_delete=models.PROTECT, related_name="statements"
    )
    status = models.CharField(
        max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    currency = models.CharField(max_length=3)
    opening_balance = models.DecimalField(max_digits=18, decimal_places=2)
    earnings = models.DecimalField(max_digits=18, decimal_places=2)
    recoupment = models.DecimalField(max_digits=18, decimal_places=2)
    payments = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    closing_balance = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["-period__month", "payee__name"]
        constraints = [models.UniqueConstraint(fields=["payee", "period"], name="statement_unique")]

    def __str__(self) -> str:
        return f"{self.payee_id} {self.period_id}"


class StatementLine(models.Model):
    """A payee's share of one track (or release) at one store in one territory in a period.

    The report lines it comes from are exactly the sales lines of the statement's period with
    the same track (or release, for release-level lines), store and territory: see
    `royalties.selectors.statement_line_trace`.
    """

    id = models.BigAutoField(primary_key=True)
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="+")
    track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    store = models.CharField(max_length=50)
    territory = models.CharField(max_length=2)
    quantity = models.BigIntegerField()
    sales_lines = models.PositiveIntegerField(help_text="How many report lines it traces to.")
    # Net (10 places) times rate (10 places): exact with 20 places.
    group_total = models.DecimalField(
        max_digits=40,
        decimal_places=20,
        help_text="Exact converted net of all traced lines, before splitting.",
    )
    percent = models.DecimalField(max_digits=7, decimal_places=4)
    amount = models.DecimalField(
        max_digits=18, decimal_places=2, help_text="The payee's share, in cents."
    )
    recouped = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.amount}"
