from django.urls import path
from rest_framework.routers import SimpleRouter

from royalties.api import money_views, views

router = SimpleRouter()
router.register("sales-reports", views.SalesReportViewSet, basename="sales-report")
router.register("sales-lines", views.SalesLineViewSet, basename="sales-line")
router.register("report-products", views.ReportProductViewSet, basename="report-product")
router.register("exchange-rates", money_views.ExchangeRateViewSet, basename="exchange-rate")
router.register("payees", money_views.PayeeViewSet, basename="payee")
router.register("splits", money_views.SplitViewSet, basename="split")
router.register("expenses", money_views.ExpenseViewSet, basename="expense")
router.register("payments", money_views.PaymentViewSet, basename="payment")
router.register("accounting-periods", views.PeriodViewSet, basename="accounting-period")
router.register("statements", views.StatementViewSet, basename="statement")

urlpatterns = [
    *router.urls,
    path("earnings/", views.EarningsViewSet.as_view({"get": "totals"}), name="earnings"),
]
