"""django-oauth-toolkit's validator with Cartable's rules.

- Claims and the pairwise `sub` come from cartable.oidc.claims (DOT's default `sub` is the
  database primary key, the same at every client).
- A disabled or merged account gets no token: the code exchange, the refresh and every use of
  an access token (userinfo, the mobile API) check the account again, since it may have been
  closed after the user consented.
- Fewer queries at the token endpoint (bench/oidc_token.py): DOT reads the authorization code's
  row six times per exchange (scopes, code, redirect URI, PKCE challenge and method, nonce) and
  reads back the ID token it has just signed. Here the row is read once per request (with its
  user) and the ID token is taken from the request. Every check DOT makes is still made.
- A replayed authorization code revokes the tokens its first exchange issued (RedeemedCode).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from .claims import CLAIM_SCOPES, account_usable, claims_for
from .models import RedeemedCode

logger = logging.getLogger(__name__)


class CartableValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- The authorization code's row, read once per token request -------------------------

    def _grant(self, code: str, request, client=None) -> Grant | None:
        """The code's row (None: unknown, used, or another client's when `client` is given)."""
        cache = request.__dict__.setdefault("_cartable_grants", {})
        if code not in cache:
            cache[code] = Grant.objects.select_related("user").filter(code=code).first()
        grant = cache[code]
        if grant is not None and client is not None and grant.application_id != client.pk:
            return None
        return grant

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request) -> list[str]:
        grant = self._grant(code, request)
        return scope_to_list(grant.scope) if grant is not None and grant.scope else []

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        grant = self._grant(code, request, client)
        if grant is None:
            family = RedeemedCode.family_of_replayed(code)
            if family is not None:
                # A replayed code: whoever exchanged it first may be a thief (RedeemedCode).
                logger.warning("Code d'autorisation rejoué : jetons qu'il avait délivrés révoqués.")
                RefreshToken.revoke_family(family)
            return False
        if grant.is_expired():
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return account_usable(request.user)

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request=None, *args, **kwargs) -> bool:
        if request is None:
            return super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs)
        grant = self._grant(code, request, client)
        return grant is not None and grant.redirect_uri_allowed(redirect_uri)

    def get_code_challenge(self, code, request) -> str | None:
        grant = self._grant(code, request, request.client)
        return (grant.code_challenge or None) if grant is not None else None

    def get_code_challenge_method(self, code, request) -> str | None:
        grant = self._grant(code, request, request.client)
        return (grant.code_challenge_method or None) if grant is not None else None

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request) -> str | None:
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant is not None else None

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        """DOT's, with the ID token this request has just signed instead of parsing it back."""
        issued = getattr(request, "id_token", None)
        if not token.get("id_token") or issued is None:
            return super()._create_access_token(expires, request, token, source_refresh_token)
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=issued,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        if request.grant_type == "authorization_code" and request.code:
            RedeemedCode.remember(request.code, refresh_token.token_family)
        return refresh_token

    # --- prompt=none ------------------------------------------------------------------------
    # oauthlib asks these for prompt=none and DOT does not implement them (a 500). The view
    # answers both questions itself, with the session and the consents this validator does not
    # see: an anonymous prompt=none gets login_required (DOT's handle_no_permission), and one
    # without a remembered consent gets consent_required (cartable.oidc.views.AuthorizeView).

    def validate_silent_login(self, request) -> bool:
        return True

    def validate_silent_authorization(self, request) -> bool:
        return True

    # --- Claims and accounts ------------------------------------------------------------------

    def get_claim_dict(self, request) -> dict[str, Any]:
        return claims_for(request.user, request.client.client_id, set(request.scopes or []))

    def get_discovery_claims(self, request) -> list[str]:
        return list(CLAIM_SCOPES)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        return valid and account_usable(request.user)

    def validate_bearer_token(self, token, scopes, request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        if not account_usable(request.user):
            request.oauth2_error = {"error": "invalid_token", "error_description": "Compte fermé ou désactivé."}
            return False
        return True
