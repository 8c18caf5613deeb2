"""Browser sessions (the admin's login) reach the API too, scoped by X-Organization."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from distribution.tests.factories import ReleaseFactory

pytestmark = pytest.mark.django_db


def test_session_user_acts_for_the_organization_it_names() -> None:
    user = UserFactory()
    first = MembershipFactory(user=user, role="viewer").organization
    second = MembershipFactory(user=user, role="manager").organization
    stranger = OrganizationFactory()
    mine = ReleaseFactory(organization=second)
    ReleaseFactory(organization=stranger)

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    default = client.get("/api/v1/organizations/").json()["results"]
    assert [o["id"] for o in default] == [str(first.pk)]
    named = client.get("/api/v1/releases/", HTTP_X_ORGANIZATION=second.slug).json()["results"]
    assert [r["id"] for r in named] == [str(mine.pk)]
    refused = client.get("/api/v1/releases/", HTTP_X_ORGANIZATION=stranger.slug)
    assert refused.status_code == 403
    # Session writes need the CSRF token, like any browser form.
    no_csrf = client.post(
        "/api/v1/artists/", {"name": "A"}, format="json", HTTP_X_ORGANIZATION=second.slug
    )
    assert no_csrf.status_code == 403


def test_user_without_membership_is_refused() -> None:
    client = APIClient()
    client.force_login(UserFactory())
    response = client.get("/api/v1/releases/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
