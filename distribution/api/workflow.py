"""Release workflow and asset endpoints, mixed into the release and track viewsets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Capability
from distribution import selectors
from distribution.api.serializers import (
    AssetSerializer,
    RejectSerializer,
    ReleaseReadSerializer,
    ReviewNoteSerializer,
    ValidationReportSerializer,
)
from distribution.api.uploads import receive_upload
from distribution.choices import AssetKind
from distribution.models import Asset
from distribution.services import assets as asset_services
from distribution.services import review
from enterprise_suite.errors import NotFound

if TYPE_CHECKING:
    from enterprise_suite.api.views import ApiViewSet as _ViewSetBase
else:
    _ViewSetBase = object


def _binary_request(*content_types: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "multipart/form-data": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    }
    for content_type in (*content_types, "application/octet-stream"):
        body[content_type] = OpenApiTypes.BINARY
    return body


_UPLOAD_RESPONSES = {
    201: AssetSerializer,
    413: OpenApiResponse(description="The file is larger than the configured limit."),
    415: OpenApiResponse(description="The file's bytes are not an accepted type."),
}


class AssetUploadMixin(_ViewSetBase):
    """GET the current asset, or PUT/POST a new one (multipart field `file` or raw body)."""

    asset_kind: AssetKind

    def _current_asset(self, **owner: Any) -> Response:
        asset = Asset.objects.filter(
            superseded_at__isnull=True, kind=self.asset_kind, **owner
        ).first()
        if asset is None:
            raise NotFound(f"No {self.asset_kind} has been uploaded yet.")
        return Response(AssetSerializer(asset).data)

    def _upload(self, request: Request, **owner: Any) -> Response:
        limit = (
            settings.ARTWORK_MAX_BYTES
            if self.asset_kind == AssetKind.ARTWORK
            else settings.AUDIO_MAX_BYTES
        )
        upload = receive_upload(request._request, max_bytes=limit)
        try:
            asset = asset_services.asset_upload(
                kind=self.asset_kind,
                upload=upload,
                uploaded_by=self.membership.user,
                **owner,
            )
        finally:
            upload.close()
        asset.refresh_from_db()
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)


class ReleaseWorkflowMixin(AssetUploadMixin):
    """validate, submit, start-review, approve, reject and artwork on a release."""

    asset_kind = AssetKind.ARTWORK
    action_capabilities = {
        "validate": Capability.CATALOG_READ,
        "start_review": Capability.RELEASE_REVIEW,
        "approve": Capability.RELEASE_REVIEW,
        "reject": Capability.RELEASE_REVIEW,
        "preview": Capability.CATALOG_READ,
        "takedown": Capability.CATALOG_WRITE,
        "redeliver": Capability.CATALOG_WRITE,
    }

    def _release(self, pk: str | None) -> Any:
        return selectors.release_get(organization=self.organization, release_id=pk or "")

    def _document(self, release_id: Any) -> dict[str, Any]:
        raise NotImplementedError

    @extend_schema(request=None, responses=ValidationReportSerializer)
    @action(detail=True, methods=["get"])
    def validate(self, request: Request, pk: str | None = None) -> Response:
        """The release's findings against the stores' rules, each with its fix hint."""
        release = self._release(pk)
        findings = [f.as_dict() for f in review.release_findings(release=release)]
        errors = sum(1 for f in findings if f["severity"] == "error")
        return Response(
            {
                "release_id": release.pk,
                "submittable": errors == 0,
                "error_count": errors,
                "warning_count": len(findings) - errors,
                "findings": findings,
            }
        )

    @extend_schema(request=None, responses=ReleaseReadSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit a draft for QC; 400 listing the blocking findings if any remain."""
        release, _ = review.release_submit(release=self._release(pk), actor=self.membership.user)
        return Response(self._document(release.pk))

    @extend_schema(request=None, responses=ReleaseReadSerializer)
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request: Request, pk: str | None = None) -> Response:
        release = review.release_start_review(release=self._release(pk), actor=self.membership.user)
        return Response(self._document(release.pk))

    @extend_schema(request=ReviewNoteSerializer, responses=ReleaseReadSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        serializer = ReviewNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        release = review.release_approve(
            release=self._release(pk),
            actor=self.membership.user,
            note=serializer.validated_data["note"],
        )
        return Response(self._document(release.pk))

    @extend_schema(request=RejectSerializer, responses=ReleaseReadSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        release = review.release_reject(
            release=self._release(pk),
            actor=self.membership.user,
            reason=serializer.validated_data["reason"],
        )
        return Response(self._document(release.pk))

    @extend_schema(methods=["GET"], request=None, responses=AssetSerializer)
    @extend_schema(
        methods=["PUT", "POST"],
        request=_binary_request("image/jpeg", "image/png"),
        responses=_UPLOAD_RESPONSES,
    )
    @action(detail=True, methods=["get", "put", "post"])
    def artwork(self, request: Request, pk: str | None = None) -> Response:
        """The cover artwork: JPEG or PNG, square, at least 3000x3000, RGB."""
        release = self._release(pk)
        if request.method == "GET":
            return self._current_asset(release=release)
        return self._upload(request, release=release)


class TrackAudioMixin(AssetUploadMixin):
    asset_kind = AssetKind.AUDIO

    @extend_schema(methods=["GET"], request=None, responses=AssetSerializer)
    @extend_schema(
        methods=["PUT", "POST"],
        request=_binary_request("audio/wav", "audio/flac"),
        responses=_UPLOAD_RESPONSES,
    )
    @action(detail=True, methods=["get", "put", "post"])
    def audio(self, request: Request, pk: str | None = None) -> Response:
        """The audio master: WAV or FLAC, 16 or 24 bit, 44.1 kHz or more, stereo."""
        track = selectors.track_get(organization=self.organization, track_id=pk or "")
        if request.method == "GET":
            return self._current_asset(track=track)
        return self._upload(request, track=track)
