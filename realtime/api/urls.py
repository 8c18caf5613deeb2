from django.urls import path
from rest_framework.routers import SimpleRouter

from realtime.api.inbound import InboundWebhookView
from realtime.api.views import EventViewSet
from realtime.api.webhook_views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("events", EventViewSet, basename="event")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
urlpatterns += [path("inbound/<slug:store_code>/", InboundWebhookView.as_view(), name="inbound")]
