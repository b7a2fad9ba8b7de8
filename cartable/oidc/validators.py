"""django-oauth-toolkit's validator with Cartable's rules.

- Claims and the pairwise `sub` come from cartable.oidc.claims (DOT's default `sub` is the
  database primary key, the same at every client).
- A disabled or merged account gets no token: the code exchange, the refresh and every use of
  an access token (userinfo, the mobile API) check the account again, since it may have been
  closed after the user consented.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from .claims import CLAIM_SCOPES, account_usable, claims_for


class CartableValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    def get_claim_dict(self, request) -> dict[str, Any]:
        return claims_for(request.user, request.client.client_id, set(request.scopes or []))

    def get_discovery_claims(self, request) -> list[str]:
        return list(CLAIM_SCOPES)

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        return super().validate_code(client_id, code, client, request, *args, **kwargs) and account_usable(
            request.user
        )

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
