"""The OpenID Connect side of FranceConnect: what Cartable asks the provider and what it checks.

Built on Authlib: its OAuth 2.0 client (authorization URL, code exchange with the client
authentication, bearer calls) and joserfc, Authlib's JOSE library, for the signatures.

  metadata()            the provider's discovery document (FRANCECONNECT_ISSUER/.well-known/
                        openid-configuration), cached; its `issuer` must be the setting's.
  authorization_url()   the redirect to the provider: code flow, scopes, acr_values, state, nonce.
  exchange_code()       code → tokens (token endpoint), then the id_token verified: signature
                        (RS256 or ES256, provider's JWKS, re-fetched once for an unknown `kid`),
                        iss, aud (and azp), exp, iat, nonce, acr.
  fetch_userinfo()      the userinfo endpoint, answered as JSON or as a signed JWT
                        (`application/jwt`, verified like the id_token); its `sub` must match.

Every failure raises FranceConnectError with a short reason for the log (never a token) and a
kind the views turn into a French message. Every HTTP call has FRANCECONNECT_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

logger = logging.getLogger(__name__)

# Asymmetric signatures only (FranceConnect v2): never "none" nor HS256 with the client secret.
SIGNING_ALGORITHMS = ["ES256", "RS256"]
# FranceConnect's access tokens live 60 s: a leeway of 60 s (a common library default) would make
# them look expired on arrival. 30 s still absorbs an ordinary clock skew.
CLOCK_LEEWAY_SECONDS = 30
# The discovery document and the keys change rarely; an unknown `kid` re-fetches the keys anyway.
METADATA_CACHE_SECONDS = 3600
JWKS_CACHE_SECONDS = 3600


class Failure(Enum):
    """What went wrong, as far as the person is concerned (one French message each)."""

    DENIED = "denied"  # the person cancelled at the provider (error=access_denied)
    PROVIDER_ERROR = "provider_error"  # any other error the provider sent back
    STATE = "state"  # missing, wrong, expired or already used state
    INVALID = "invalid"  # a code refused, a bad signature, wrong claims: the answer is not trusted
    UNAVAILABLE = "unavailable"  # the provider could not be reached or answered nonsense


class FranceConnectError(Exception):
    """A refused FranceConnect login; `reason` is for the log and never holds a token."""

    def __init__(self, failure: Failure, reason: str) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason


def is_configured() -> bool:
    """With no issuer or no client id, FranceConnect is off and its button hidden."""
    return bool(settings.FRANCECONNECT_ISSUER and settings.FRANCECONNECT_CLIENT_ID)


def redirect_uri() -> str:
    """The callback registered at the provider: from SITE_URL, never from the request's Host."""
    return settings.SITE_URL + reverse("franceconnect:callback")


def post_logout_redirect_uri() -> str:
    return settings.SITE_URL + reverse("franceconnect:logged_out")


def _get(url: str, **kwargs: Any) -> requests.Response:
    try:
        response = requests.get(url, timeout=settings.FRANCECONNECT_TIMEOUT_SECONDS, **kwargs)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise FranceConnectError(Failure.UNAVAILABLE, f"GET {url}: {type(exc).__name__}") from exc
    return response


def _get_json(url: str) -> dict[str, Any]:
    try:
        data = _get(url).json()
    except ValueError as exc:
        raise FranceConnectError(Failure.UNAVAILABLE, f"GET {url}: not JSON") from exc
    if not isinstance(data, dict):
        raise FranceConnectError(Failure.UNAVAILABLE, f"GET {url}: not a JSON object")
    return data


# --- Discovery and keys --------------------------------------------------------------------------


def metadata() -> dict[str, Any]:
    """The provider's discovery document (cached METADATA_CACHE_SECONDS)."""
    issuer = settings.FRANCECONNECT_ISSUER
    key = f"franceconnect:metadata:{issuer}"
    document = cache.get(key)
    if document is None:
        document = _get_json(f"{issuer}/.well-known/openid-configuration")
        # OpenID Connect Discovery §4.3: the document must name the very issuer it was read from.
        if document.get("issuer") != issuer:
            raise FranceConnectError(Failure.UNAVAILABLE, "discovery: issuer differs from FRANCECONNECT_ISSUER")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise FranceConnectError(Failure.UNAVAILABLE, f"discovery: no {name}")
        cache.set(key, document, METADATA_CACHE_SECONDS)
    return document


def _jwks(*, refresh: bool = False) -> KeySet:
    uri = metadata()["jwks_uri"]
    key = f"franceconnect:jwks:{uri}"
    data = None if refresh else cache.get(key)
    if data is None:
        data = _get_json(uri)
        cache.set(key, data, JWKS_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]  # checked by import_key_set itself
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise FranceConnectError(Failure.UNAVAILABLE, f"jwks: unusable key set ({type(exc).__name__})") from exc


def _signing_key(header: dict[str, Any]) -> Any:
    """The provider's key for this JWS header; the key set is re-read once for an unknown kid."""
    alg = header.get("alg")
    if alg not in SIGNING_ALGORITHMS:
        raise FranceConnectError(Failure.INVALID, f"signature algorithm {alg!r} refused")
    kid = header.get("kid")
    for refresh in (False, True):
        keys = _jwks(refresh=refresh)
        candidates = [
            k for k in keys if (kid is None or k.kid == kid) and k.alg in (None, alg) and k.get("use") in (None, "sig")
        ]
        if kid is None and len(candidates) > 1:
            # Without a kid only a single fitting key is unambiguous.
            raise FranceConnectError(Failure.INVALID, "no kid and several keys fit")
        if candidates:
            return candidates[0]
    raise FranceConnectError(Failure.INVALID, "signing key not in the provider's key set")


def verify_jwt(raw: str, *, nonce: str | None = None, id_token: bool = True) -> dict[str, Any]:
    """Check a JWT signed by the provider and return its claims.

    For an id_token: iss, aud (and azp), exp, iat required, nonce equal to ours. For a signed
    userinfo: iss and aud checked when present (OpenID Connect Core §5.3.2).
    """
    try:
        header = jws.extract_compact(raw.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeError) as exc:
        raise FranceConnectError(Failure.INVALID, "not a compact JWS") from exc
    key = _signing_key(header)
    try:
        token = jwt.decode(raw, key, algorithms=SIGNING_ALGORITHMS)
    except JoseError as exc:
        raise FranceConnectError(Failure.INVALID, f"bad signature ({type(exc).__name__})") from exc
    claims = dict(token.claims)

    client_id = settings.FRANCECONNECT_CLIENT_ID
    essential = {"essential": True} if id_token else {}
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={**essential, "value": settings.FRANCECONNECT_ISSUER},  # type: ignore[typeddict-item]
        aud={**essential, "value": client_id},  # type: ignore[typeddict-item]
        exp={"essential": id_token},
        iat={"essential": id_token},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise FranceConnectError(Failure.INVALID, f"claim {getattr(exc, 'claim', '?')} refused ({exc})") from exc
    audiences = claims.get("aud")
    if isinstance(audiences, list) and len(audiences) > 1 and claims.get("azp") != client_id:
        raise FranceConnectError(Failure.INVALID, "several audiences and azp is not this client")
    if id_token:
        received = claims.get("nonce")
        if not isinstance(received, str) or nonce is None or not hmac.compare_digest(received, nonce):
            raise FranceConnectError(Failure.INVALID, "nonce differs from the one sent")
        if not acr_acceptable(claims.get("acr")):
            raise FranceConnectError(Failure.INVALID, f"acr {claims.get('acr')!r} below {settings.FRANCECONNECT_ACR_VALUES!r}")
    return claims


_EIDAS = re.compile(r"eidas([1-3])")


def acr_acceptable(acr: object) -> bool:
    """The level the provider vouches for is one we asked for, or a higher eIDAS level."""
    wanted = settings.FRANCECONNECT_ACR_VALUES.split()
    if not wanted:
        return True
    if not isinstance(acr, str):
        return False
    if acr in wanted:
        return True
    got = _EIDAS.fullmatch(acr)
    levels = [int(m.group(1)) for w in wanted if (m := _EIDAS.fullmatch(w))]
    return bool(got and levels and int(got.group(1)) >= min(levels))


# --- The flow ------------------------------------------------------------------------------------


def _session(token: dict[str, Any] | None = None) -> OAuth2Session:
    document = metadata()
    supported = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return OAuth2Session(
        client_id=settings.FRANCECONNECT_CLIENT_ID,
        client_secret=settings.FRANCECONNECT_CLIENT_SECRET,
        scope=settings.FRANCECONNECT_SCOPES,
        redirect_uri=redirect_uri(),
        # Basic when the provider offers it (the OAuth default), else the secret in the body.
        token_endpoint_auth_method="client_secret_basic" if "client_secret_basic" in supported else "client_secret_post",
        token=token,
        leeway=CLOCK_LEEWAY_SECONDS,
        default_timeout=settings.FRANCECONNECT_TIMEOUT_SECONDS,
    )


def authorization_url(state: str, nonce: str) -> str:
    extra = {"acr_values": settings.FRANCECONNECT_ACR_VALUES} if settings.FRANCECONNECT_ACR_VALUES else {}
    with _session() as client:
        url, _state = client.create_authorization_url(metadata()["authorization_endpoint"], state=state, nonce=nonce, **extra)
    return str(url)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    claims: dict[str, Any]  # the verified id_token's


def exchange_code(code: str, nonce: str) -> Tokens:
    """Trade the authorization code for tokens and verify the id_token."""
    with _session() as client:
        try:
            token = client.fetch_token(metadata()["token_endpoint"], code=code, grant_type="authorization_code")
        except OAuthError as exc:
            # invalid_grant: a code already used, expired or not ours.
            raise FranceConnectError(Failure.INVALID, f"token endpoint refused the code ({exc.error})") from exc
        except requests.RequestException as exc:
            raise FranceConnectError(Failure.UNAVAILABLE, f"token endpoint: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise FranceConnectError(Failure.UNAVAILABLE, "token endpoint: not JSON") from exc
    access_token, id_token = token.get("access_token"), token.get("id_token")
    if not isinstance(access_token, str) or not isinstance(id_token, str):
        raise FranceConnectError(Failure.INVALID, "token response without access_token or id_token")
    return Tokens(access_token=access_token, id_token=id_token, claims=verify_jwt(id_token, nonce=nonce))


def fetch_userinfo(tokens: Tokens) -> dict[str, Any]:
    """The person's claims from the userinfo endpoint, plain JSON or a signed JWT."""
    endpoint = metadata().get("userinfo_endpoint")
    if not isinstance(endpoint, str):
        raise FranceConnectError(Failure.UNAVAILABLE, "discovery: no userinfo_endpoint")
    with _session(token={"access_token": tokens.access_token, "token_type": "Bearer"}) as client:
        try:
            response = client.get(endpoint)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise FranceConnectError(Failure.UNAVAILABLE, f"userinfo: {type(exc).__name__}") from exc
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type == "application/jwt":
        claims = verify_jwt(response.text.strip(), id_token=False)
    else:
        try:
            claims = json.loads(response.text)
        except ValueError as exc:
            raise FranceConnectError(Failure.UNAVAILABLE, f"userinfo: neither JWT nor JSON ({content_type})") from exc
        if not isinstance(claims, dict):
            raise FranceConnectError(Failure.UNAVAILABLE, "userinfo: not a JSON object")
    # OpenID Connect Core §5.3.2: a userinfo `sub` other than the id_token's must be rejected.
    sub = claims.get("sub")
    if not isinstance(sub, str) or not hmac.compare_digest(sub, str(tokens.claims["sub"])):
        raise FranceConnectError(Failure.INVALID, "userinfo sub differs from the id_token's")
    return claims


def end_session_url(id_token: str, state: str) -> str | None:
    """The provider's logout URL for this session, or None when it has no end_session_endpoint."""
    endpoint = metadata().get("end_session_endpoint")
    if not isinstance(endpoint, str):
        return None
    query = urlencode(
        {"id_token_hint": id_token, "state": state, "post_logout_redirect_uri": post_logout_redirect_uri()}
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
