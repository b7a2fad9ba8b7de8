"""Test helpers for the provider and its API: clients, PKCE pairs, tokens through the real flow."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.urls import reverse
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from cartable.accounts.models import User

REDIRECT_URI = "http://127.0.0.1:9/rp/callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/rp/bye"
MOBILE_REDIRECT_URI = "http://127.0.0.1:9/mobile/callback"


def make_client(
    name: str = "Catalogue du CDI",
    *,
    public: bool = False,
    trusted: bool = False,
    redirect_uri: str = REDIRECT_URI,
    post_logout_uri: str = POST_LOGOUT_URI,
) -> tuple[Application, str]:
    """A registered client and its secret in clear ("" for a public client)."""
    secret = "" if public else generate_client_secret()
    app = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        redirect_uris=redirect_uri,
        post_logout_redirect_uris=post_logout_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=trusted,
        hash_client_secret=not public,
    )
    return app, secret


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(app: Application, challenge: str | None, scope: str = "openid", **extra) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uris.split()[0],
        "scope": scope,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return params


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def obtain_code(client: Client, app: Application, scope: str = "openid", **extra) -> tuple[str, str]:
    """(code, verifier) for a signed-in test client: consents on the page if it is shown."""
    verifier, challenge = pkce_pair()
    params = authorize_params(app, challenge, scope, **extra)
    response = client.get(reverse("oauth2_provider:authorize"), params)
    if response.status_code == 200:  # the consent page
        form = {**params, "allow": "on"}
        response = client.post(reverse("oauth2_provider:authorize"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    query = query_of(response["Location"])
    assert "code" in query, response["Location"]
    return query["code"], verifier


def exchange(client: Client, app: Application, secret: str, code: str, verifier: str | None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app.redirect_uris.split()[0],
        "client_id": app.client_id,
    }
    if secret:
        data["client_secret"] = secret
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post(reverse("oauth2_provider:token"), data)


def obtain_tokens(user: User, app: Application, secret: str, scope: str = "openid") -> dict:
    """Tokens for `user` at `app` through authorize + token, as a relying party gets them."""
    browser = Client()
    browser.force_login(user)
    code, verifier = obtain_code(browser, app, scope)
    response = exchange(Client(), app, secret, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()
