from rest_framework.routers import SimpleRouter

from accounts.api.views import MemberViewSet, OrganizationViewSet, TokenViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("members", MemberViewSet, basename="member")
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = router.urls
