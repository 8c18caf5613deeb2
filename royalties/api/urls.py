from django.urls import path
from rest_framework.routers import SimpleRouter

from royalties.api import views

router = SimpleRouter()
router.register("sales-reports", views.SalesReportViewSet, basename="sales-report")
router.register("sales-lines", views.SalesLineViewSet, basename="sales-line")
router.register("report-products", views.ReportProductViewSet, basename="report-product")
router.register("exchange-rates", views.ExchangeRateViewSet, basename="exchange-rate")
router.register("payees", views.PayeeViewSet, basename="payee")
router.register("splits", views.SplitViewSet, basename="split")
router.register("expenses", views.ExpenseViewSet, basename="expense")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("accounting-periods", views.PeriodViewSet, basename="accounting-period")
router.register("statements", views.StatementViewSet, basename="statement")

urlpatterns = [
    *router.urls,
    path("earnings/", views.EarningsViewSet.as_view({"get": "totals"}), name="earnings"),
]
