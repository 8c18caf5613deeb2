from rest_framework.routers import SimpleRouter

from distribution.api.views import ArtistViewSet, LabelViewSet, ReleaseViewSet, TrackViewSet

router = SimpleRouter()
router.register("labels", LabelViewSet, basename="label")
router.register("artists", ArtistViewSet, basename="artist")
router.register("releases", ReleaseViewSet, basename="release")
router.register("tracks", TrackViewSet, basename="track")

urlpatterns = router.urls
