"""What the provider says about an account: subject identifier and claims, scope by scope.

`sub` is pairwise: an HMAC of the account's immutable identifier keyed by OIDC_PAIRWISE_KEY and
the client id. It never changes for one account at one client (identifiers never change), and two
services cannot match their users through it: pupils are minors, and a service that asked only
`openid` learns nothing it could join with another service's records. Services that need names
or the établissement ask `profile` / `ent`, shown on the consent page.

Claims by scope: `profile` → given_name, family_name, name; `email` → email and email_verified,
only for an address the person proved (`User.email_verified`); `ent` → ent_profiles (profile
codes), ent_uai (UAI codes) and ent_memberships ([{uai, profile}]), from the current memberships
of every person the account speaks for (a merged parent's included).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.directory.models import Membership

# Claim → the scope that releases it (DOT's oidc_claim_scope).
CLAIM_SCOPES = {
    "sub": "openid",
    "given_name": "profile",
    "family_name": "profile",
    "name": "profile",
    "email": "email",
    "email_verified": "email",
    "ent_profiles": "ent",
    "ent_uai": "ent",
    "ent_memberships": "ent",
}


def account_usable(user: User | None) -> bool:
    """May this account get or use tokens? Not when disabled, nor once merged into another."""
    return user is not None and user.is_active and user.merged_into_id is None


def pairwise_sub(client_id: str, user: User) -> str:
    """The account's subject identifier at this client (module docstring)."""
    message = f"{client_id}\x00{user.username}".encode()
    return hmac.new(settings.OIDC_PAIRWISE_KEY.encode(), message, hashlib.sha256).hexdigest()


def memberships(user: User) -> list[dict[str, str]]:
    """Current (uai, profile) pairs of the persons the account speaks for, in a stable order."""
    rows = (
        Membership.objects.current()
        .filter(person_id__in=person_ids(user))
        .order_by("etablissement__uai", "profile")
        .values_list("etablissement__uai", "profile")
        .distinct()
    )
    return [{"uai": uai, "profile": profile} for uai, profile in rows]


def claims_for(user: User, client_id: str, scopes: list[str] | set[str]) -> dict[str, Any]:
    """The claims released to `client_id` for `scopes` (ID token and userinfo alike)."""
    claims: dict[str, Any] = {"sub": pairwise_sub(client_id, user)}
    person = user.person
    if "profile" in scopes:
        if person is not None:
            claims["given_name"] = person.first_name
            claims["family_name"] = person.display_last_name
        claims["name"] = user.get_full_name()
    if "email" in scopes and user.email and user.email_verified:
        claims["email"] = user.email
        claims["email_verified"] = True
    if "ent" in scopes:
        pairs = memberships(user)
        claims["ent_memberships"] = pairs
        claims["ent_profiles"] = sorted({pair["profile"] for pair in pairs})
        claims["ent_uai"] = sorted({pair["uai"] for pair in pairs})
    return claims
