"""The admin panel lists, searches, filters and edits the catalog (tracks inline on releases)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import OrganizationFactory
from distribution.tests.factories import release_with_tracks

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    user = User.objects.create_superuser("root@example.test", "pw-123456789")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "accounts/user",
        "accounts/organization",
        "accounts/membership",
        "accounts/apitoken",
        "distribution/label",
        "distribution/artist",
        "distribution/release",
        "distribution/track",
    ],
)
def test_changelists_render(staff_client: Client, model: str) -> None:
    release_with_tracks(OrganizationFactory())
    response = staff_client.get(f"/admin/{model}/?q=a")
    assert response.status_code == 200


def test_release_page_shows_tracks_inline(staff_client: Client) -> None:
    release = release_with_tracks(OrganizationFactory(), tracks=3)
    response = staff_client.get(f"/admin/distribution/release/{release.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    for track in release.tracks.all():
        assert track.isrc in body
    found = staff_client.get(f"/admin/distribution/release/?q={release.upc}")
    assert release.title in found.content.decode()
    filtered = staff_client.get("/admin/distribution/release/?status__exact=submitted")
    assert release.title not in filtered.content.decode()


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/admin/distribution/release/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
