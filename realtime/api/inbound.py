"""`POST /api/v1/inbound/{store_code}/`: stores post acknowledgements of our deliveries."""

from __future__ import annotations

import json
from typing import Any

import structlog
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from enterprise_suite.api.schema import AutoSchema, ErrorResponseSerializer
from enterprise_suite.errors import ValidationFailed
from realtime.inbound import (
    SIGNATURE_HEADER,
    STATUSES,
    TIMESTAMP_HEADER,
    inbound_signature_verify,
    inbound_store_get,
    inbound_webhook_record,
)

logger = structlog.get_logger(__name__)


class InboundAcknowledgementSerializer(serializers.Serializer[Any]):
    message_id = serializers.CharField(
        max_length=200, help_text="The store's own id for this webhook; repeats are ignored."
    )
    acknowledges = serializers.CharField(
        max_length=80, help_text="The MessageId of our ERN message being acknowledged."
    )
    status = serializers.ChoiceField(
        choices=STATUSES, help_text="`accepted` or `rejected` by the store."
    )
    text = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The store's message, if any."
    )


class InboundReceivedSerializer(serializers.Serializer[Any]):
    received = serializers.BooleanField(help_text="Always true: the webhook is stored.")
    message_id = serializers.CharField(help_text="The store's message id, echoed.")
    duplicate = serializers.BooleanField(
        help_text="True when this message id was already received; nothing changed."
    )


class InboundWebhookSchema(AutoSchema):
    """No 409 (no state to conflict with) or 415 (the raw body is read as JSON whatever the
    content type) for this endpoint; the other errors are documented on the view."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            for status_code in ("409", "415"):
                operation["responses"].pop(status_code, None)
        return operation


class InboundWebhookView(APIView):
    """Receive a store's acknowledgement of a delivery (webhook in).

    Not authenticated with an API token: the request is signed by the store. Headers:

    - `X-Store-Timestamp`: unix seconds when the store sent it; must be within
      `INBOUND_WEBHOOK_TOLERANCE_SECONDS` (default 300) of our clock, past or future.
    - `X-Store-Signature`: `sha256=<hex>`, the HMAC-SHA256 of `"{timestamp}.{raw body}"` keyed
      with the store's secret (environment variable `STORE_<CODE>_WEBHOOK_SECRET`, the code
      upper-cased with `-` as `_`).

    Body (JSON): `{"message_id": "<store's own id>", "acknowledges": "<our ERN MessageId>",
    "status": "accepted" | "rejected", "text": "..."}`.

    Answers 202 `{"received": true, "message_id": ..., "duplicate": false}` once the
    acknowledgement is stored; the delivery is then acknowledged or rejected in the background.
    A repeat of the same `message_id` answers 202 with `"duplicate": true` and changes nothing.
    Errors: 401 bad, missing or stale signature; 404 unknown store or no secret configured;
    400 malformed body.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    parser_classes = [JSONParser]
    schema = InboundWebhookSchema()

    @extend_schema(
        operation_id="inbound_webhook_receive",
        tags=["inbound"],
        auth=[],
        request=InboundAcknowledgementSerializer,
        parameters=[
            OpenApiParameter(
                "store_code",
                str,
                OpenApiParameter.PATH,
                description="The store's code, e.g. `spotify`.",
            ),
            OpenApiParameter(
                TIMESTAMP_HEADER,
                int,
                OpenApiParameter.HEADER,
                required=True,
                description="Unix seconds when sent; must be within the tolerance window.",
            ),
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description='`sha256=<hex>` HMAC-SHA256 of `"{timestamp}.{raw body}"`.',
            ),
        ],
        responses={
            202: InboundReceivedSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="The body is not JSON, lacks a field or has a bad status.",
            ),
            401: OpenApiResponse(
                ErrorResponseSerializer,
                description="Missing or bad signature, or timestamp outside the window.",
            ),
            404: OpenApiResponse(
                ErrorResponseSerializer,
                description="Unknown store, or no webhook secret configured for it.",
            ),
        },
    )
    def post(self, request: Request, store_code: str) -> Response:
        body = request.body  # the raw bytes, before any parsing: they are what was signed
        store, secret = inbound_store_get(store_code=store_code)
        inbound_signature_verify(
            store=store,
            secret=secret,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
            body=body,
        )
        try:
            payload = json.loads(body)
        except ValueError:
            logger.warning("inbound_webhook_malformed", store=store.code, reason="not JSON")
            raise ValidationFailed("The body is not JSON.") from None
        if not isinstance(payload, dict):
            logger.warning("inbound_webhook_malformed", store=store.code, reason="not an object")
            raise ValidationFailed("The body must be a JSON object.")
        serializer = InboundAcknowledgementSerializer(data=payload)
        if not serializer.is_valid():
            details = serializer.errors
            logger.warning("inbound_webhook_malformed", store=store.code, errors=details)
            raise ValidationFailed(f"Invalid input: {', '.join(details)}.", details=details)
        data = serializer.validated_data
        inbound, created = inbound_webhook_record(
            store=store,
            message_id=data["message_id"],
            acknowledges=data["acknowledges"],
            status=data["status"],
            text=data["text"],
            payload=payload,
        )
        return Response(
            {"received": True, "message_id": inbound.message_id, "duplicate": not created},
            status=status.HTTP_202_ACCEPTED,
        )
