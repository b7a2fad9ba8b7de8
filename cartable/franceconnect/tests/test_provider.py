"""client.py against the real provider (node's oidc-provider), without a browser.

The provider's login and consent forms are posted with `requests`; the browser tests do the same
through chromium. Here: both signing algorithms (ES256 and RS256), the signed userinfo
(`application/jwt`) verified, the acr, a code used twice, a nonce that is not ours.
"""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from cartable.franceconnect import client
from cartable.franceconnect.client import Failure, FranceConnectError

from .conftest import ACCOUNTS, FC_PASSWORD, start_provider, stop_provider

SITE = "http://127.0.0.1:9"  # never contacted: the callback is read from the provider's redirect


@pytest.fixture(params=["ES256", "RS256"])
def provider(request, settings):
    settings.SITE_URL = SITE
    started = start_provider(SITE + "/franceconnect/retour/", SITE + "/franceconnect/deconnecte/", request.param)
    settings.FRANCECONNECT_ISSUER = started.issuer
    settings.FRANCECONNECT_CLIENT_ID = started.client_id
    settings.FRANCECONNECT_CLIENT_SECRET = started.client_secret
    settings.FRANCECONNECT_SCOPES = "openid given_name family_name birthdate email"
    settings.FRANCECONNECT_ACR_VALUES = "eidas1"
    try:
        yield started, request.param
    finally:
        stop_provider(started.process)


def log_in_at_provider(state: str, nonce: str, login: str = "claire") -> dict[str, str]:
    """Go through the provider's pages; return the callback's parameters."""
    browser = requests.Session()
    page = browser.get(client.authorization_url(state, nonce), timeout=10)
    assert "Connexion au fournisseur de test" in page.text
    page = browser.post(page.url + "/login", data={"login": login, "password": FC_PASSWORD}, timeout=10)
    assert "Autoriser la transmission de vos données" in page.text
    response = browser.post(page.url + "/confirm", allow_redirects=False, timeout=10)
    for _hop in range(5):
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(SITE):
            return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back")


@pytest.mark.django_db
def test_code_flow_with_signed_userinfo(provider, monkeypatch):
    started, alg = provider
    verified: list[tuple[str, bool]] = []
    real_verify = client.verify_jwt

    def spy(raw, *, nonce=None, id_token=True):
        header = raw.split(".")[0]
        verified.append((header, id_token))
        return real_verify(raw, nonce=nonce, id_token=id_token)

    monkeypatch.setattr(client, "verify_jwt", spy)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    params = log_in_at_provider(state, nonce)
    assert params["state"] == state and params["iss"] == started.issuer

    tokens = client.exchange_code(params["code"], nonce)
    assert tokens.claims["sub"] == "claire"
    assert tokens.claims["acr"] == "eidas1"
    assert tokens.claims["nonce"] == nonce
    userinfo = client.fetch_userinfo(tokens)
    expected = {k: v for k, v in ACCOUNTS["claire"].items() if k != "password"}
    assert {k: userinfo[k] for k in expected} == expected
    # The id_token and then the userinfo, both JWTs signed with the provider's algorithm.
    assert [id_token for _h, id_token in verified] == [True, False]
    for header, _id_token in verified:
        assert json.loads(base64.urlsafe_b64decode(header + "==="))["alg"] == alg

    # The same code a second time: the provider refuses it.
    with pytest.raises(FranceConnectError) as caught:
        client.exchange_code(params["code"], nonce)
    assert caught.value.failure is Failure.INVALID
    assert "invalid_grant" in caught.value.reason


@pytest.mark.django_db
def test_nonce_not_ours(provider):
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    params = log_in_at_provider(state, nonce)
    with pytest.raises(FranceConnectError) as caught:
        client.exchange_code(params["code"], secrets.token_urlsafe(32))
    assert "nonce" in caught.value.reason


@pytest.mark.django_db
def test_wrong_client_secret(provider, settings):
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    params = log_in_at_provider(state, nonce)
    settings.FRANCECONNECT_CLIENT_SECRET = "pas-le-bon-" + "x" * 32
    with pytest.raises(FranceConnectError) as caught:
        client.exchange_code(params["code"], nonce)
    assert caught.value.failure is Failure.INVALID
    assert "invalid_client" in caught.value.reason
