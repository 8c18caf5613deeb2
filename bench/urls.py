"""The project's URLs plus the baseline views under /bench/."""

from django.urls import include, path

from bench import views
from enterprise_suite import urls as project_urls

urlpatterns = [
    path("bench/releases/", views.release_list, name="bench-release-list"),
    path("bench/releases/<uuid:release_id>/", views.release_detail, name="bench-release-detail"),
    path("bench/inbound/<slug:store_code>/", views.inbound_push, name="bench-inbound"),
    path("", include(project_urls)),
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
