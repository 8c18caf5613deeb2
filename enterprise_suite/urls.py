from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from enterprise_suite import health
from enterprise_suite.api.exceptions import json_error_view

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("distribution.api.urls")),
    path("", include("realtime.api.urls")),
    path("", include("royalties.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Unknown API paths answer in the API's error shape, in DEBUG too. CSRF-exempt like every
    # API view, so an unsafe method gets this 404 rather than an HTML CSRF failure page.
    re_path(r"^api/", csrf_exempt(json_error_view(404, "not_found", "No such API endpoint."))),
]

handler400 = json_error_view(400, "bad_request", "Bad request.")
handler403 = json_error_view(403, "permission_denied", "You do not have permission to do this.")
handler404 = json_error_view(404, "not_found", "Not found.")
handler500 = json_error_view(500, "server_error", "Internal server error.")

admin.site.site_header = "Enterprise Suite"
admin.site.site_title = "Enterprise Suite admin"
admin.site.index_title = "Catalog, QC and deliveries"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
