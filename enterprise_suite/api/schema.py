"""OpenAPI generation (drf-spectacular): the error answers every operation can give.

The exception handler turns every error into `{"error": {"code", "message", "details"}}` with
its status; this schema class documents those statuses on each operation, derived from what
the operation has (a body, query parameters, path ids, authentication, throttling), so new
endpoints are documented without per-view annotations. An explicit `@extend_schema`
response for a status takes precedence; one given without a body gets the error body.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from enterprise_suite.api.views import IDEMPOTENCY_HEADER, IdempotentPostMixin

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ErrorDetailSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `not_found`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    details = serializers.JSONField(
        allow_null=True,
        help_text="Extra context, e.g. field name to messages for validation errors; or null.",
    )


class ErrorResponseSerializer(serializers.Serializer[Any]):
    error = ErrorDetailSerializer()


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and isinstance(self.view, IdempotentPostMixin):
            parameters.append(
                OpenApiParameter(
                    name=IDEMPOTENCY_HEADER,
                    location=OpenApiParameter.HEADER,
                    type={"type": "string", "minLength": 1, "maxLength": 255},
                    required=False,
                    description=(
                        "Makes the POST safe to retry: a repeat with the same key and request "
                        "returns the first answer (with `Idempotent-Replayed: true`) and changes "
                        "nothing; the same key with a different request answers 409."
                    ),
                )
            )
        return parameters

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status_code, description in self._error_statuses(operation):
            responses.setdefault(str(status_code), self._error_response(status_code, description))
        for status_code, response in responses.items():
            # An error a view documents by description only still has the one error body.
            if status_code[0] in "45" and "content" not in response:
                error = self._error_response(int(status_code), response.get("description", ""))
                response["content"] = error["content"]
        return dict(operation)

    def _error_response(self, status_code: int, description: str) -> dict[str, Any]:
        return dict(
            self._get_response_for_code(
                OpenApiResponse(ErrorResponseSerializer, description=description),
                str(status_code),
            )
        )

    def _error_statuses(self, operation: dict[str, Any]) -> list[tuple[int, str]]:
        parameters = operation.get("parameters", [])
        locations = {parameter["in"] for parameter in parameters}
        has_body = "requestBody" in operation
        security = operation.get("security", [])
        authenticated = bool(security) and {} not in security
        paginated = (
            self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
        )

        statuses: list[tuple[int, str]] = []
        if has_body or "query" in locations or "header" in locations:
            statuses.append((400, "Invalid input; `details` names the offending fields."))
        if authenticated:
            statuses.append((401, "Missing, malformed, expired or revoked credentials."))
            statuses.append((403, "The caller's role or token scopes do not allow this."))
        if "path" in locations or paginated:
            statuses.append((404, "No such object in the caller's organization, or no such page."))
        if self.method in _WRITE_METHODS:
            statuses.append(
                (409, "Conflicts with the object's current state, or an Idempotency-Key reuse.")
            )
        if has_body:
            statuses.append((415, "Unsupported request body media type."))
        if self.view.get_throttles():
            statuses.append((429, "Rate limit exceeded; retry after `Retry-After` seconds."))
        return statuses
