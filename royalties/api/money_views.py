"""Money around the sales: exchange rates, payees, splits, recoupable expenses and
payments."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from distribution import selectors as catalog
from royalties import selectors
from royalties.api import serializers as s
from royalties.api.views import RoyaltiesViewSet, period_filter
from royalties.models import (
    ExchangeRate,
    Payee,
    Payment,
    RecoupableExpense,
    Split,
)
from royalties.services import money, payments


class ExchangeRateViewSet(mixins.ListModelMixin, RoyaltiesViewSet):
    """Monthly exchange rates into the organization's currency."""

    queryset = ExchangeRate.objects.none()
    serializer_class = s.ExchangeRateSerializer
    filterset_fields = ["currency"]

    def get_queryset(self) -> QuerySet[ExchangeRate]:
        return selectors.exchange_rate_list(organization=self.organization)

    @extend_schema(
        request=s.ExchangeRatesSetSerializer, responses=s.ExchangeRateSerializer(many=True)
    )
    def create(self, request: Request) -> Response:
        """Create or replace rates: `{"rates": [{"currency", "month": "YYYY-MM", "rate"}]}`."""
        data = self.validated(s.ExchangeRatesSetSerializer, request.data)
        saved = money.exchange_rates_set(
            organization=self.organization,
            rates=[(r["currency"], r["month"], r["rate"]) for r in data["rates"]],
        )
        return Response(
            s.ExchangeRateSerializer(saved, many=True).data, status=status.HTTP_201_CREATED
        )


class PayeeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """People and parties paid from tracks' earnings."""

    queryset = Payee.objects.none()
    serializer_class = s.PayeeSerializer

    def get_queryset(self) -> QuerySet[Payee]:
        return selectors.payee_list(organization=self.organization)

    def get_object(self) -> Payee:
        return selectors.payee_get(organization=self.organization, payee_id=self.kwargs["pk"])

    def create(self, request: Request) -> Response:
        data = self.validated(s.PayeeSerializer, request.data)
        payee = money.payee_create(organization=self.organization, **data)
        return Response(self.get_serializer(payee).data, status=status.HTTP_201_CREATED)


class SplitViewSet(mixins.ListModelMixin, RoyaltiesViewSet):
    """Payees' percentages of a track or release from a date."""

    queryset = Split.objects.none()
    serializer_class = s.SplitSerializer
    filterset_fields = ["track", "release", "payee"]

    def get_queryset(self) -> QuerySet[Split]:
        return selectors.split_list(organization=self.organization)

    @extend_schema(
        request=s.SplitSetSerializer,
        responses={
            201: s.SplitSerializer(many=True),
            404: OpenApiResponse(description="No such track, release or payee."),
        },
    )
    def create(self, request: Request) -> Response:
        """Set a track's (or release's) payees from `valid_from`; percentages sum to 100."""
        data = self.validated(s.SplitSetSerializer, request.data)
        track = release = None
        if "track" in data:
            track = catalog.track_get(organization=self.organization, track_id=data["track"])
        else:
            release = catalog.release_get(
                organization=self.organization, release_id=data["release"]
            )
        shares = [
            (
                selectors.payee_get(organization=self.organization, payee_id=share["payee"]),
                share["percent"],
            )
            for share in data["shares"]
        ]
        splits = money.splits_set(
            organization=self.organization,
            track=track,
            release=release,
            valid_from=data["valid_from"],
            shares=shares,
        )
        return Response(s.SplitSerializer(splits, many=True).data, status=status.HTTP_201_CREATED)


class ExpenseViewSet(mixins.ListModelMixin, RoyaltiesViewSet):
    """Recoupable expenses per release, recovered before splits apply."""

    queryset = RecoupableExpense.objects.none()
    serializer_class = s.ExpenseSerializer
    filterset_fields = ["release"]

    def get_queryset(self) -> QuerySet[RecoupableExpense]:
        return selectors.expense_list(organization=self.organization)

    @extend_schema(
        request=s.ExpenseCreateSerializer,
        responses={
            201: s.ExpenseSerializer,
            404: OpenApiResponse(description="No such release."),
        },
    )
    def create(self, request: Request) -> Response:
        data = self.validated(s.ExpenseCreateSerializer, request.data)
        release = catalog.release_get(organization=self.organization, release_id=data["release"])
        expense = money.expense_create(
            organization=self.organization,
            release=release,
            description=data["description"],
            amount=data["amount"],
            incurred_on=data["incurred_on"],
        )
        return Response(s.ExpenseSerializer(expense).data, status=status.HTTP_201_CREATED)


class PaymentFilter(django_filters.FilterSet):
    period = period_filter()

    class Meta:
        model = Payment
        fields = ["payee", "period"]


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoyaltiesViewSet):
    """Money paid to payees, taken off their balance by the statement of the period it counts
    in (the month it was paid, or the next open one)."""

    queryset = Payment.objects.none()
    serializer_class = s.PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["paid_on", "created_at"]
    ordering = ["-paid_on", "-created_at"]

    def get_queryset(self) -> QuerySet[Payment]:
        return selectors.payment_list(organization=self.organization)

    def get_object(self) -> Payment:
        return selectors.payment_get(organization=self.organization, payment_id=self.kwargs["pk"])

    @extend_schema(
        request=s.PaymentCreateSerializer,
        responses={
            201: s.PaymentSerializer,
            404: OpenApiResponse(description="No such payee."),
        },
    )
    def create(self, request: Request) -> Response:
        """Record a payment (a negative amount: money returned). Regenerate the period's
        statements to see it on the payee's."""
        data = self.validated(s.PaymentCreateSerializer, request.data)
        payee = selectors.payee_get(organization=self.organization, payee_id=data["payee"])
        payment = payments.payment_record(
            organization=self.organization,
            payee=payee,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data.get("reference", ""),
            actor=self.membership.user,
        )
        return Response(self.get_serializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(description="Its period is closed."),
        }
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        """Delete a payment recorded by mistake, while its period is open."""
        payments.payment_delete(payment=self.get_object(), actor=self.membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
