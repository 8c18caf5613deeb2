"""Memberships in the admin panel: superusers change roles and remove members through the same
services as the API, so an organization's last owner can be neither demoted nor removed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import Membership, User
from accounts.tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root@example.test", "pw-123456789"))
    return client


def _change_url(membership: Membership) -> str:
    return f"/admin/accounts/membership/{membership.pk}/change/"


def _form(membership: Membership, role: str) -> dict[str, Any]:
    return {"role": role}


def test_the_last_owner_is_neither_demoted_nor_removed(superuser: Client) -> None:
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner")
    response = superuser.post(_change_url(owner), _form(owner, "viewer"))
    assert response.status_code == 200  # the form again
    assert "last owner cannot be demoted" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == "owner"
    # No delete page for them, and a bulk delete that includes them deletes nothing.
    assert superuser.get(f"/admin/accounts/membership/{owner.pk}/delete/").status_code == 403
    viewer = MembershipFactory(organization=organization, role="viewer")
    superuser.post(
        "/admin/accounts/membership/",
        {"action": "delete_selected", "_selected_action": [owner.pk, viewer.pk], "post": "yes"},
    )
    assert Membership.objects.filter(pk__in=[owner.pk, viewer.pk]).count() == 2
    # Others are removed (through the service).
    superuser.post(
        "/admin/accounts/membership/",
        {"action": "delete_selected", "_selected_action": [viewer.pk], "post": "yes"},
    )
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_roles_change_through_the_service_when_another_owner_remains(superuser: Client) -> None:
    organization = OrganizationFactory()
    first = MembershipFactory(organization=organization, role="owner")
    MembershipFactory(organization=organization, role="owner")
    response = superuser.post(_change_url(first), _form(first, "admin"))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.role == "admin"
    # The user and organization of a membership are fixed once it exists.
    page = superuser.get(_change_url(first)).content.decode()
    assert 'name="organization"' not in page and 'name="user"' not in page


def test_the_organization_page_lists_members_read_only(superuser: Client) -> None:
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner")
    page = superuser.get(f"/admin/accounts/organization/{organization.pk}/change/")
    body = page.content.decode()
    assert owner.user.email in body
    assert 'name="memberships-0-role"' not in body


def test_owners_cannot_change_the_slug_or_the_isrc_allocation(client: Client) -> None:
    organization = OrganizationFactory()
    owner = MembershipFactory(organization=organization, role="owner")
    User.objects.filter(pk=owner.user_id).update(is_staff=True)
    client.force_login(owner.user)
    before = (organization.slug, organization.isrc_next_designation)
    response = client.post(
        f"/admin/accounts/organization/{organization.pk}/change/",
        {
            "name": "Renamed",
            "slug": "hijacked",
            "default_currency": "USD",
            "release_lead_days": 7,
            "isrc_prefix": "XXZZZ",
            "isrc_designation_year": 2020,
            "isrc_next_designation": 1,
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": str(owner.pk),
            "memberships-0-organization": str(organization.pk),
        },
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.name == "Renamed"
    assert (organization.slug, organization.isrc_next_designation) == before
