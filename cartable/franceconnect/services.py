"""Logging in with FranceConnect, read top to bottom.

  1. begin()     "S'identifier avec FranceConnect": a fresh random `state` and `nonce` (43
                 characters each) go into the session with the page to return to, and the
                 browser is sent to the provider (code flow, FRANCECONNECT_SCOPES,
                 acr_values=FRANCECONNECT_ACR_VALUES).
  2. complete()  back from the provider: the flow is taken out of the session (single use), the
                 `state` compared in constant time, an `error` from the provider honoured, the
                 code exchanged, the id_token and userinfo verified (client.py). Any failure
                 raises FranceConnectError: nobody is logged in.
  3. log_in()    a `sub` already linked (accounts.ExternalIdentity) logs straight in (the account it
                 was merged into, if any; a deactivated account is refused). An unknown `sub` is a
                 first use: cartable.registration asks the mobile number, the SMS code and the
                 children's birth dates, then links the `sub` and logs in.
  4. logout()    a session that came through FranceConnect keeps its id_token (ID_TOKEN_KEY); logging
                 out of Cartable then also sends the browser to the provider's end_session endpoint,
                 which comes back to logged_out() with our `state`.

Session keys start with "franceconnect_": the registration flow keeps them across its session
rotation, so the id_token survives a first use.
"""

from __future__ import annotations

import datetime
import hmac
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from cartable.accounts.models import ExternalIdentity, User
from cartable.accounts.services import audit
from cartable.portal import services as portal
from cartable.registration.flow import ExternalClaims

from . import client
from .client import Failure, FranceConnectError

logger = logging.getLogger(__name__)

FLOW_KEY = "franceconnect_flow"  # {"state", "nonce", "next", "started"} while at the provider
ID_TOKEN_KEY = "franceconnect_id_token"  # noqa: S105 (a session key, not a secret): the id_token of a FranceConnect session, for the logout
LOGOUT_STATE_KEY = "franceconnect_logout_state"  # while the provider ends its session
# A login started longer ago is refused on return: the provider's own interaction lasts less.
FLOW_MAX_SECONDS = 15 * 60
# The longest chain of merged accounts followed (a merge into an account merged in turn).
_MAX_MERGE_HOPS = 5


def _random() -> str:
    # 32 random bytes: 43 URL-safe characters (FranceConnect requires at least 32).
    return secrets.token_urlsafe(32)


def safe_next(request: HttpRequest, value: str | None) -> str:
    """`value` if it is a local URL of this site, else "" (no open redirect through ?next=)."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def begin(request: HttpRequest, next_url: str = "") -> str:
    """Step 1: remember a new state and nonce in the session; return the provider's URL."""
    state, nonce = _random(), _random()
    url = client.authorization_url(state, nonce)  # may raise FranceConnectError (provider unreachable)
    request.session[FLOW_KEY] = {
        "state": state,
        "nonce": nonce,
        "next": safe_next(request, next_url),
        "started": int(time.time()),
    }
    return url


def complete(request: HttpRequest) -> tuple[client.Tokens, dict[str, Any], str]:
    """Step 2: check the provider's answer; return the tokens, the userinfo claims and `next`."""
    flow = request.session.pop(FLOW_KEY, None)  # single use: a replayed callback finds nothing
    params = request.GET
    if not isinstance(flow, dict):
        raise FranceConnectError(Failure.STATE, "no login in progress in this session (replay or expired session)")
    received = params.get("state", "")
    if not received or not hmac.compare_digest(received.encode(), str(flow["state"]).encode()):
        raise FranceConnectError(Failure.STATE, "state differs from the one sent")
    if time.time() - int(flow.get("started", 0)) > FLOW_MAX_SECONDS:
        raise FranceConnectError(Failure.STATE, "login started too long ago")
    error = params.get("error")
    if error:
        failure = Failure.DENIED if error == "access_denied" else Failure.PROVIDER_ERROR
        raise FranceConnectError(failure, f"provider answered error={error[:60]!r}")
    # RFC 9207: when the provider says who it is, it must be the issuer we talk to.
    iss = params.get("iss")
    if iss is not None and iss != settings.FRANCECONNECT_ISSUER:
        raise FranceConnectError(Failure.INVALID, "iss parameter differs from FRANCECONNECT_ISSUER")
    code = params.get("code")
    if not code:
        raise FranceConnectError(Failure.INVALID, "no code in the callback")
    tokens = client.exchange_code(code, str(flow["nonce"]))
    userinfo = client.fetch_userinfo(tokens)
    return tokens, userinfo, str(flow.get("next") or "")


def _birthdate(value: object) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def external_claims(userinfo: dict[str, Any]) -> ExternalClaims:
    """The claims handed to the registration flow's first use."""

    def text(name: str) -> str:
        value = userinfo.get(name)
        return value.strip() if isinstance(value, str) else ""

    return ExternalClaims(
        provider=ExternalIdentity.Provider.FRANCECONNECT,
        subject=str(userinfo["sub"]),
        given_name=text("given_name"),
        family_name=text("family_name"),
        birthdate=_birthdate(userinfo.get("birthdate")),
        email=text("email"),
    )


def linked_identity(subject: str) -> ExternalIdentity | None:
    return (
        ExternalIdentity.objects.select_related("user")
        .filter(provider=ExternalIdentity.Provider.FRANCECONNECT, subject=subject)
        .first()
    )


def account_for(identity: ExternalIdentity) -> User:
    """The account a linked `sub` logs into: after a merge (regroupement), the one kept."""
    user = identity.user
    for _hop in range(_MAX_MERGE_HOPS):
        if user.merged_into_id is None:
            break
        user = User.objects.get(pk=user.merged_into_id)
    return user


def log_in(request: HttpRequest, identity: ExternalIdentity, id_token: str) -> User | None:
    """Step 3 for a known `sub`: open the session, or None when the account is deactivated."""
    user = account_for(identity)
    if not user.is_active:
        audit("franceconnect_login_refused", actor=None, target=user, reason="inactive")
        return None
    user.backend = settings.AUTHENTICATION_BACKENDS[0]  # type: ignore[attr-defined]  # as authenticate() sets it
    portal.start_session(request, user, None)
    request.session[ID_TOKEN_KEY] = id_token
    ExternalIdentity.objects.filter(pk=identity.pk).update(last_used_at=timezone.now())
    audit("franceconnect_login", actor=user, target=user)
    return user


def remember_id_token(request: HttpRequest, id_token: str) -> None:
    """Keep the id_token before a first use, so that logging out also ends the provider's session."""
    request.session[ID_TOKEN_KEY] = id_token


def logout(request: HttpRequest) -> str | None:
    """Step 4: end the Cartable session; return the provider's logout URL for a FranceConnect one.

    Returns None (and does nothing) when the session did not come through FranceConnect. When the
    provider cannot be reached, the local session still ends, and "" is returned: the caller says
    the provider's session could not be ended.
    """
    id_token = request.session.get(ID_TOKEN_KEY)
    if not isinstance(id_token, str) or not id_token or not client.is_configured():
        return None
    portal.end_session(request)  # flushes the session, id_token included
    state = _random()
    try:
        url = client.end_session_url(id_token, state)
    except FranceConnectError as exc:
        logger.warning("FranceConnect logout: %s", exc.reason)
        return ""
    if url is None:
        logger.warning("FranceConnect logout: the provider has no end_session_endpoint")
        return ""
    # In the new, empty session: checked when the provider sends the browser back.
    request.session[LOGOUT_STATE_KEY] = state
    return url


def logged_out(request: HttpRequest) -> bool:
    """The provider is back from its logout: True when the state is the one we sent."""
    expected = request.session.pop(LOGOUT_STATE_KEY, None)
    received = request.GET.get("state", "")
    return bool(expected and received and hmac.compare_digest(str(expected).encode(), received.encode()))
