"""Writes for accounts: organizations, members, API tokens."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.choices import Role, Scope
from accounts.models import ApiToken, Membership, Organization, User
from accounts.tokens import generate_token, hash_token, parse_prefix
from enterprise_suite.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed

# last_used_at is written at most this often per token, so authentication stays read-only on
# the hot path.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


class InvalidToken(ApplicationError):
    status_code = 401
    code = "authentication_failed"


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def user_get_or_create(*, email: str, password: str | None = None, full_name: str = "") -> User:
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, password, full_name=full_name)
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def organization_create(
    *, name: str, owner_email: str, owner_password: str | None = None, slug: str | None = None
) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationFailed("An organization needs a name.", details={"name": ["Required."]})
    if slug and Organization.objects.filter(slug=slug).exists():
        raise Conflict(f"An organization with slug '{slug}' already exists.")
    organization = Organization.objects.create(name=name, slug=slug or _unique_slug(name))
    owner = user_get_or_create(email=owner_email, password=owner_password)
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def organization_update(
    *,
    organization: Organization,
    name: str | None = None,
    default_currency: str | None = None,
    release_lead_days: int | None = None,
) -> Organization:
    fields = []
    if name is not None:
        organization.name = name
        fields.append("name")
    if default_currency is not None:
        organization.default_currency = default_currency.upper()
        fields.append("default_currency")
    if release_lead_days is not None:
        organization.release_lead_days = release_lead_days
        fields.append("release_lead_days")
    if fields:
        organization.save(update_fields=[*fields, "updated_at"])
    return organization


def _owner_count(organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


def membership_is_last_owner(membership: Membership) -> bool:
    return membership.role == Role.OWNER and _owner_count(membership.organization) <= 1


def _check_may_touch_owner(
    *, actor: Membership | None, target_role: str, new_role: str | None
) -> None:
    # No actor: a platform superuser in the admin panel, who may touch owners (the last-owner
    # rule still holds for them).
    if actor is None:
        return
    if actor.role != Role.OWNER and (target_role == Role.OWNER or new_role == Role.OWNER):
        raise PermissionDenied("Only an owner can grant or change the owner role.")


@transaction.atomic
def member_invite(*, actor: Membership, email: str, role: str, full_name: str = "") -> Membership:
    _check_may_touch_owner(actor=actor, target_role=role, new_role=role)
    user = user_get_or_create(email=email, full_name=full_name)
    try:
        with transaction.atomic():
            return Membership.objects.create(organization=actor.organization, user=user, role=role)
    except IntegrityError:
        raise Conflict(f"{user.email} is already a member of this organization.") from None


@transaction.atomic
def member_change_role(
    *, actor: Membership | None, membership: Membership, role: str
) -> Membership:
    # Lock the organization's owner rows so two demotions cannot both pass the last-owner check.
    list(
        Membership.objects.select_for_update().filter(
            organization=membership.organization, role=Role.OWNER
        )
    )
    membership.refresh_from_db(fields=["role"])
    _check_may_touch_owner(actor=actor, target_role=membership.role, new_role=role)
    demoting_owner = membership.role == Role.OWNER and role != Role.OWNER
    if demoting_owner and _owner_count(membership.organization) <= 1:
        raise Conflict("The organization's last owner cannot be demoted.")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def member_remove(*, actor: Membership | None, membership: Membership) -> None:
    list(
        Membership.objects.select_for_update().filter(
            organization=membership.organization, role=Role.OWNER
        )
    )
    membership.refresh_from_db(fields=["role"])
    _check_may_touch_owner(actor=actor, target_role=membership.role, new_role=None)
    if membership.role == Role.OWNER and _owner_count(membership.organization) <= 1:
        raise Conflict("The organization's last owner cannot be removed.")
    membership.delete()


def token_create(
    *,
    membership: Membership,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw secret, which is never retrievable again."""
    scope_list = sorted(set(scopes))
    unknown = [s for s in scope_list if s not in Scope.values]
    if not scope_list or unknown:
        raise ValidationFailed(
            "Scopes must be a non-empty subset of read, write, admin.",
            details={"scopes": [f"Unknown scope: {s}" for s in unknown] or ["Required."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            "The expiry must be in the future.", details={"expires_at": ["Must be in the future."]}
        )
    generated = generate_token()
    token = ApiToken.objects.create(
        membership=membership,
        name=name,
        prefix=generated.prefix,
        secret_hash=generated.secret_hash,
        scopes=scope_list,
        expires_at=expires_at,
        created_by=created_by,
    )
    return token, generated.raw


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token. Revoking twice keeps the first revocation time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_authenticate(*, raw: str) -> ApiToken:
    prefix = parse_prefix(raw)
    if prefix is None:
        raise InvalidToken("Malformed API token.")
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organization")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, hash_token(raw)):
        raise InvalidToken("Invalid API token.")
    if token.revoked_at is not None:
        raise InvalidToken("This API token has been revoked.")
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise InvalidToken("This API token has expired.")
    if not token.membership.user.is_active:
        raise InvalidToken("This API token's user is inactive.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
