"""Base classes every API view builds on: organization scoping and Idempotency-Key support."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.context import request_membership
from accounts.models import Membership, Organization
from enterprise_suite.errors import ValidationFailed
from enterprise_suite.idempotency import (
    IdempotentReplay,
    idempotency_begin,
    idempotency_complete,
    idempotency_release,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
_HASHED_BODY_TYPES = {"", "application/json", "application/x-www-form-urlencoded"}


def _request_fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type in _HASHED_BODY_TYPES:
        digest.update(request._request.body)
    elif media_type.startswith("multipart/"):
        # A retried multipart upload carries a new boundary, so neither the raw bytes nor the
        # length repeat; the media type stands in for the body.
        digest.update(media_type.encode())
    else:
        # Raw uploads are streamed to storage, never read into memory here.
        digest.update(f"{media_type} {request.META.get('CONTENT_LENGTH', '')}".encode())
    return digest.hexdigest()


class IdempotentPostMixin:
    """A POST with an `Idempotency-Key` header runs once; retries get the first answer."""

    _idempotency_record: Any = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or key is None:
            return
        if not key.strip() or len(key) > 255:
            raise ValidationFailed(
                "Idempotency-Key must be 1 to 255 characters.",
                details={IDEMPOTENCY_HEADER: ["Invalid length."]},
            )
        membership = request_membership(request)
        self._idempotency_record = idempotency_begin(
            organization_id=membership.organization_id,
            user_id=request.user.pk,
            key=key,
            fingerprint=_request_fingerprint(request),
        )

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, IdempotentReplay):
            return Response(exc.body, status=exc.status, headers={"Idempotent-Replayed": "true"})
        try:
            return super().handle_exception(exc)  # type: ignore[misc]
        except Exception:
            # An unhandled error becomes a 500: free the key so the client can retry.
            if self._idempotency_record is not None:
                idempotency_release(record=self._idempotency_record)
                self._idempotency_record = None
            raise

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            if response.status_code >= 500:
                idempotency_release(record=record)
            else:
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                idempotency_complete(record=record, status=response.status_code, body=body)
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class ApiViewSet(IdempotentPostMixin, viewsets.GenericViewSet):
    """Base of every organization-scoped API viewset: knows the caller's membership."""

    @property
    def membership(self) -> Membership:
        return request_membership(self.request)

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    def validated(
        self,
        serializer_class: type[serializers.BaseSerializer[Any]],
        data: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The request's body (or `data`) checked by `serializer_class`: 400 if it fails."""
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
            **kwargs,
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
