"""Payments, exchange rates, payees, splits and recoupable expenses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_access import (
    ORGANIZATION_FILTER,
    OrganizationRoleAdmin,
)
from accounts.roles import Capability, user_has_capability
from enterprise_suite.errors import ApplicationError
from royalties.models import (
    ExchangeRate,
    Payee,
    Payment,
    RecoupableExpense,
    Split,
)
from royalties.selectors import payee_latest_statement
from royalties.services.payments import payment_delete, payment_record


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
    readonly_fields = ["balance"]

    @admin.display(description="Balance")
    def balance(self, payee: Payee) -> str:
        """The latest statement's closing balance, with the payee's statements and payments."""
        if payee.pk is None:
            return "-"
        latest = payee_latest_statement(payee)
        mine = f"?payee__id__exact={payee.pk}"
        statements = reverse("admin:royalties_statement_changelist") + mine
        payments = reverse("admin:royalties_payment_changelist") + mine
        if latest is None:
            return format_html('No statement yet. <a href="{}">Payments</a>', payments)
        return format_html(
            '{} {} at the close of {} ({}). <a href="{}">Statements</a>, <a href="{}">Payments</a>',
            latest.closing_balance,
            latest.currency,
            latest.period,
            latest.status,
            statements,
            payments,
        )


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
