"""`Authorization: Bearer <api token>` for the REST API."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.services import InvalidToken, token_authenticate


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Bearer <token>'."
            )
        try:
            token = token_authenticate(raw=parts[1].decode("ascii", errors="replace"))
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return token.membership.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'
