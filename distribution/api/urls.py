from rest_framework.routers import SimpleRouter

from distribution.api.delivery_views import DeliveryViewSet, StoreViewSet
from distribution.api.views import ArtistViewSet, LabelViewSet, ReleaseViewSet, TrackViewSet

router = SimpleRouter()
router.register("labels", LabelViewSet, basename="label")
router.register("artists", ArtistViewSet, basename="artist")
router.register("releases", ReleaseViewSet, basename="release")
router.register("tracks", TrackViewSet, basename="track")
router.register("stores", StoreViewSet, basename="store")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = router.urls
