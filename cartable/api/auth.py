"""Authentication of the mobile API: the provider's bearer access tokens, and nothing else.

No session, no cookie, hence no CSRF: the API reads only the Authorization header, checked by
django-oauth-toolkit's validator (cartable.oidc.validators: unknown, expired or revoked tokens,
disabled or merged accounts are refused) for the API scope. The failure is kept on the request
so that the error handlers answer RFC 6750's way: 401 with WWW-Authenticate for a missing or bad
token, 403 insufficient_scope for a good token without the scope.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from oauth2_provider.oauth2_backends import get_oauthlib_core

from cartable.oidc.scopes import API_SCOPE


class InsufficientScope(Exception):
    """A valid token that was not granted the API scope."""


class AccessToken(HttpBearer):
    """`Authorization: Bearer <access token>` issued by /oidc/token/ with the `api` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[API_SCOPE])
        if valid:
            request.user = oauth_request.user
            request.access_token = oauth_request.access_token  # type: ignore[attr-defined]
            return oauth_request.user
        error = getattr(oauth_request, "oauth2_error", {}) if oauth_request is not None else {}
        if error.get("error") == "insufficient_scope":
            raise InsufficientScope()
        return None
