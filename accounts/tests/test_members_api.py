"""Members: invite by email, change role, remove; owners stay protected."""

from __future__ import annotations

import pytest

from accounts.choices import Role
from accounts.models import Membership, User
from conftest import MakeCaller

pytestmark = pytest.mark.django_db


def test_invite_creates_user_and_membership(make_caller: MakeCaller) -> None:
    owner = make_caller()
    response = owner.client.post(
        "/api/v1/members/", {"email": "New.Person@Example.test", "role": "manager"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "new.person@example.test"
    membership = Membership.objects.get(pk=response.json()["id"])
    assert membership.organization == owner.organization
    assert membership.role == Role.MANAGER
    assert not membership.user.has_usable_password()


def test_invite_existing_member_is_a_conflict(make_caller: MakeCaller) -> None:
    owner = make_caller()
    email = owner.membership.user.email
    response = owner.client.post(
        "/api/v1/members/", {"email": email, "role": "viewer"}, format="json"
    )
    assert response.status_code == 409
    assert Membership.objects.filter(user__email=email).count() == 1


def test_invite_with_bad_input(make_caller: MakeCaller) -> None:
    owner = make_caller()
    before = (User.objects.count(), Membership.objects.count())
    for payload, field in [
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "a@b.test", "role": "emperor"}, "role"),
    ]:
        response = owner.client.post("/api/v1/members/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["details"]
    assert (User.objects.count(), Membership.objects.count()) == before


def test_change_role_and_list(make_caller: MakeCaller) -> None:
    owner = make_caller()
    viewer = make_caller(organization=owner.organization, role="viewer")
    url = f"/api/v1/members/{viewer.membership.pk}/"
    response = owner.client.patch(url, {"role": "qc_reviewer"}, format="json")
    assert response.status_code == 200
    viewer.membership.refresh_from_db()
    assert viewer.membership.role == Role.QC_REVIEWER
    emails = {m["email"] for m in owner.client.get("/api/v1/members/").json()["results"]}
    assert emails == {owner.membership.user.email, viewer.membership.user.email}


def test_last_owner_cannot_be_demoted_or_removed(make_caller: MakeCaller) -> None:
    owner = make_caller()
    url = f"/api/v1/members/{owner.membership.pk}/"
    assert owner.client.patch(url, {"role": "admin"}, format="json").status_code == 409
    assert owner.client.delete(url).status_code == 409
    owner.membership.refresh_from_db()
    assert owner.membership.role == Role.OWNER


def test_second_owner_allows_demotion(make_caller: MakeCaller) -> None:
    owner = make_caller()
    other = make_caller(organization=owner.organization, role="owner")
    response = owner.client.patch(
        f"/api/v1/members/{other.membership.pk}/", {"role": "viewer"}, format="json"
    )
    assert response.status_code == 200


def test_admin_cannot_grant_or_touch_owner(make_caller: MakeCaller) -> None:
    owner = make_caller()
    admin = make_caller(organization=owner.organization, role="admin")
    viewer = make_caller(organization=owner.organization, role="viewer")
    promote = admin.client.patch(
        f"/api/v1/members/{viewer.membership.pk}/", {"role": "owner"}, format="json"
    )
    assert promote.status_code == 403
    assert admin.client.delete(f"/api/v1/members/{owner.membership.pk}/").status_code == 403
    invite = admin.client.post(
        "/api/v1/members/", {"email": "boss@example.test", "role": "owner"}, format="json"
    )
    assert invite.status_code == 403
    assert not User.objects.filter(email="boss@example.test").exists()
    # but an admin does manage ordinary members
    demote = admin.client.patch(
        f"/api/v1/members/{viewer.membership.pk}/", {"role": "manager"}, format="json"
    )
    assert demote.status_code == 200


def test_non_admin_roles_cannot_manage_members(make_caller: MakeCaller) -> None:
    owner = make_caller()
    target = make_caller(organization=owner.organization, role="viewer")
    for role in ("manager", "qc_reviewer", "viewer"):
        member = make_caller(organization=owner.organization, role=role)
        assert member.client.get("/api/v1/members/").status_code == 200  # everyone may see
        patch = member.client.patch(
            f"/api/v1/members/{target.membership.pk}/", {"role": "admin"}, format="json"
        )
        assert patch.status_code == 403
        assert patch.json()["error"]["code"] == "permission_denied"
    target.membership.refresh_from_db()
    assert target.membership.role == Role.VIEWER


def test_organization_endpoint_shows_only_the_callers(make_caller: MakeCaller) -> None:
    owner = make_caller()
    other = make_caller()
    listed = owner.client.get("/api/v1/organizations/").json()["results"]
    assert [o["id"] for o in listed] == [str(owner.organization.pk)]
    assert owner.client.get(f"/api/v1/organizations/{other.organization.pk}/").status_code == 404
    response = owner.client.patch(
        f"/api/v1/organizations/{owner.organization.pk}/",
        {"name": "Renamed", "release_lead_days": 10},
        format="json",
    )
    assert response.status_code == 200
    owner.organization.refresh_from_db()
    assert (owner.organization.name, owner.organization.release_lead_days) == ("Renamed", 10)
    manager = make_caller(organization=owner.organization, role="manager")
    forbidden = manager.client.patch(
        f"/api/v1/organizations/{owner.organization.pk}/", {"name": "Nope"}, format="json"
    )
    assert forbidden.status_code == 403
