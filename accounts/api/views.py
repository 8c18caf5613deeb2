"""Organization, members and API tokens endpoints (thin: parse, call a service, render)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    MemberInviteSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
    OrganizationSerializer,
)
from accounts.models import ApiToken, Membership, Organization
from accounts.roles import Capability
from enterprise_suite.api.schema import ErrorResponseSerializer
from enterprise_suite.api.views import ApiViewSet
from enterprise_suite.errors import NotFound


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The caller's organization (a token acts for exactly one)."""

    queryset = Organization.objects.none()
    serializer_class = OrganizationSerializer
    read_capability = Capability.ORGANIZATION_READ
    write_capability = Capability.ORGANIZATION_MANAGE
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.filter(pk=self.organization.pk)

    @extend_schema(request=OrganizationSerializer, responses=OrganizationSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        organization = self.get_object()
        serializer = OrganizationSerializer(organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_update(
            organization=organization, **serializer.validated_data
        )
        return Response(OrganizationSerializer(organization).data)


class MemberViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    """Members of the caller's organization: invite by email, change role, remove."""

    queryset = Membership.objects.none()
    serializer_class = MembershipSerializer
    read_capability = Capability.ORGANIZATION_READ
    write_capability = Capability.MEMBERS_MANAGE
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Membership]:
        return selectors.membership_list(organization=self.organization)

    def get_object(self) -> Membership:
        return selectors.membership_get(
            organization=self.organization, membership_id=self.kwargs["pk"]
        )

    @extend_schema(request=MemberInviteSerializer, responses={201: MembershipSerializer})
    def create(self, request: Request) -> Response:
        serializer = MemberInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_invite(actor=self.membership, **serializer.validated_data)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_change_role(
            actor=self.membership,
            membership=self.get_object(),
            role=serializer.validated_data["role"],
        )
        return Response(MembershipSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        services.member_remove(actor=self.membership, membership=instance)


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """API tokens of the caller's organization. Secrets are shown once, at creation."""

    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer
    read_capability = Capability.TOKENS_MANAGE
    write_capability = Capability.TOKENS_MANAGE
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ApiToken]:
        return selectors.token_list(organization=self.organization)

    def get_object(self) -> ApiToken:
        return selectors.token_get(organization=self.organization, token_id=self.kwargs["pk"])

    @extend_schema(
        request=ApiTokenCreateSerializer,
        responses={
            201: ApiTokenCreatedSerializer,
            404: OpenApiResponse(
                ErrorResponseSerializer,
                description="`member` is not a member of this organization.",
            ),
        },
    )
    def create(self, request: Request) -> Response:
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["member"] is None:
            membership = self.membership
        else:
            try:
                membership = selectors.membership_get(
                    organization=self.organization, membership_id=data["member"]
                )
            except NotFound:
                raise NotFound(
                    "No such member in this organization.", details={"member": ["Unknown member."]}
                ) from None
        token, raw = services.token_create(
            membership=membership,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data["expires_at"],
            created_by=self.membership.user,
        )
        body = ApiTokenSerializer(token).data
        body["token"] = raw
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = services.token_revoke(token=self.get_object())
        return Response(ApiTokenSerializer(token).data)
