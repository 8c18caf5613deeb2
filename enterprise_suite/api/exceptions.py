"""One error shape for every API error: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from enterprise_suite.errors import ApplicationError

_DRF_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _validation_message(detail: Any) -> str:
    if isinstance(detail, dict) and detail:
        fields = ", ".join(str(field) for field in detail)
        return f"Invalid input: {fields}."
    if isinstance(detail, list) and detail:
        return str(detail[0])
    return "Invalid input."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # DRF's own handler sets WWW-Authenticate and Retry-After headers; keep them.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    details: Any
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail
        message = _validation_message(details)
    elif isinstance(exc, exceptions.Throttled):
        details = {"retry_after_seconds": getattr(exc, "wait", None)}
        message = str(exc.detail)
    else:
        details = None
        message = str(exc.detail)
    response.data = error_body(code, message, details)
    return response


def json_error_view(status_code: int, code: str, message: str) -> Callable[..., HttpResponseBase]:
    """Build a Django error handler view that answers API paths in the error shape."""
    fallbacks: dict[int, Callable[..., HttpResponseBase]] = {
        status.HTTP_400_BAD_REQUEST: defaults.bad_request,
        status.HTTP_403_FORBIDDEN: defaults.permission_denied,
        status.HTTP_404_NOT_FOUND: defaults.page_not_found,
    }

    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(code, message), status=status_code)
        if status_code == status.HTTP_500_INTERNAL_SERVER_ERROR:
            return defaults.server_error(request)
        return fallbacks[status_code](request, exception)

    return view
