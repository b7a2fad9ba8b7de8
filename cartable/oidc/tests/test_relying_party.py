"""An independent relying party (authlib's OAuth 2 / OpenID Connect client) over real HTTP.

A live server, a `requests` session playing the browser (the portal's own login form, CSRF
token included), and authlib doing everything a partner service does: discovery, authorization
code with PKCE (S256), token, ID token verified against the JWKS (signature, issuer, audience,
nonce, at_hash), userinfo, refresh, then RP-initiated logout.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urljoin

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from cartable.conftest import PASSWORD
from cartable.oidc.claims import pairwise_sub
from cartable.oidc.testing import MOBILE_REDIRECT_URI, POST_LOGOUT_URI, REDIRECT_URI, make_client, query_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def issuer(live_server, settings):
    url = f"{live_server.url}/oidc"
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url}
    return url


@pytest.fixture
def metadata(issuer) -> dict:
    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return response.json()


def _hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = value.group(1).replace("&amp;", "&") if value else ""
    return fields


def browser_authorize(browser: requests.Session, base: str, url: str, username: str, *, consent: bool) -> str:
    """Drive the browser from the RP's authorization URL to the RP's callback URL (returned)."""
    response = browser.get(url, allow_redirects=False, timeout=10)
    if response.status_code == 302 and "/connexion/" in response.headers["Location"]:
        next_url = query_of(response.headers["Location"])["next"]
        login_url = f"{base}/connexion/identifiant/"
        browser.get(login_url, params={"next": next_url}, timeout=10)
        response = browser.post(
            login_url,
            data={
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                "identifiant": username,
                "mot_de_passe": PASSWORD,
                "next": next_url,
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:2000]
        assert response.headers["Location"] == next_url
        response = browser.get(urljoin(base, next_url), allow_redirects=False, timeout=10)
    if consent:
        assert response.status_code == 200, response.text[:2000]
        assert "demande à utiliser votre compte Cartable" in response.text
        form = _hidden_fields(response.text)
        form["allow"] = "on"
        response = browser.post(response.url, data=form, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:2000]
    return response.headers["Location"]


def test_discovery_and_jwks(metadata, issuer):
    assert metadata["issuer"] == issuer
    for name in ("authorization", "token", "userinfo", "end_session"):
        assert metadata[f"{name}_endpoint"].startswith(issuer + "/")
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["subject_types_supported"] == ["pairwise"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "ent", "api"} <= set(metadata["scopes_supported"])
    keys = requests.get(metadata["jwks_uri"], timeout=10).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_full_flow_with_authlib(live_server, metadata, parent):
    app, secret = make_client()
    rp = OAuth2Session(
        app.client_id,
        secret,
        scope="openid profile ent",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    assert "code_challenge=" in url

    browser = requests.Session()
    callback = browser_authorize(browser, live_server.url, url, parent.username, consent=True)
    assert callback.startswith(REDIRECT_URI) and query_of(callback)["state"] == state

    token = rp.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": metadata["issuer"]}},
        claims_params={"nonce": nonce, "client_id": app.client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    assert claims["sub"] == pairwise_sub(app.client_id, parent)
    assert claims["family_name"] == "EXEMPLE" and claims["ent_uai"] == ["0999999X"]

    userinfo = rp.get(metadata["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == claims["sub"]

    old_access = token["access_token"]
    refreshed = rp.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != old_access and refreshed["refresh_token"] != token["refresh_token"]
    assert rp.get(metadata["userinfo_endpoint"], timeout=10).json()["given_name"] == "Claire"

    # Consent remembered: a second login at the same service skips the page.
    second = OAuth2Session(app.client_id, secret, scope="openid profile", redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier2 = secrets.token_urlsafe(48)
    url2, _state = second.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier2, nonce="n2")
    callback2 = browser_authorize(browser, live_server.url, url2, parent.username, consent=False)
    assert "code" in query_of(callback2)

    # RP-initiated logout: back to the registered address with the state, Cartable session ended.
    bye = browser.get(
        metadata["end_session_endpoint"],
        params={"id_token_hint": refreshed.get("id_token", token["id_token"]), "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "au-revoir"},
        allow_redirects=False,
        timeout=10,
    )
    assert bye.status_code == 302 and bye.headers["Location"] == f"{POST_LOGOUT_URI}?state=au-revoir"
    home = browser.get(f"{live_server.url}/accueil/", allow_redirects=False, timeout=10)
    assert home.status_code == 302 and "/connexion/" in home.headers["Location"]
    # Its tokens at this service died with the session.
    assert rp.get(metadata["userinfo_endpoint"], timeout=10).status_code == 401


def test_end_session_refuses_an_unregistered_return_address(live_server, metadata, parent):
    app, secret = make_client(trusted=True)
    rp = OAuth2Session(app.client_id, secret, scope="openid", redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    url, _state = rp.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce="n")
    browser = requests.Session()
    callback = browser_authorize(browser, live_server.url, url, parent.username, consent=False)
    token = rp.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    response = browser.get(
        metadata["end_session_endpoint"],
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://pirate.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400
    assert "Cette adresse de retour n&#x27;est pas enregistrée pour ce service." in response.text
    # Still signed in.
    assert browser.get(f"{live_server.url}/accueil/", allow_redirects=False, timeout=10).status_code == 200


def test_wrong_redirect_uri_and_pkce_mismatch_over_http(live_server, metadata, parent):
    app, secret = make_client(trusted=True)
    rp = OAuth2Session(app.client_id, secret, scope="openid", redirect_uri="http://127.0.0.1:9/ailleurs", code_challenge_method="S256")
    url, _state = rp.create_authorization_url(metadata["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48))
    browser = requests.Session()
    browser.get(url, allow_redirects=False, timeout=10)
    login_url = f"{live_server.url}/connexion/identifiant/"
    browser.get(login_url, timeout=10)
    browser.post(
        login_url,
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], "identifiant": parent.username, "mot_de_passe": PASSWORD},
        timeout=10,
    )
    refused = browser.get(url, allow_redirects=False, timeout=10)
    assert refused.status_code == 400 and "Location" not in refused.headers

    rp = OAuth2Session(app.client_id, secret, scope="openid", redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    url, _state = rp.create_authorization_url(metadata["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48))
    callback = browser_authorize(browser, live_server.url, url, parent.username, consent=False)
    response = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": query_of(callback)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": secrets.token_urlsafe(48),  # not the one the challenge was made from
        },
        auth=(app.client_id, secret),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_mobile_app_as_public_client_reaches_the_api(live_server, metadata, parent):
    app, _ = make_client("Application mobile Cartable", public=True, redirect_uri=MOBILE_REDIRECT_URI)
    mobile = OAuth2Session(
        app.client_id, scope="openid api", redirect_uri=MOBILE_REDIRECT_URI, code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    url, _state = mobile.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    callback = browser_authorize(requests.Session(), live_server.url, url, parent.username, consent=True)
    token = mobile.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    me = mobile.get(f"{live_server.url}/api/v1/me", timeout=10)
    assert me.status_code == 200 and me.json()["identifier"] == parent.username
    children = mobile.get(f"{live_server.url}/api/v1/children", timeout=10).json()
    assert [child["given_name"] for child in children] == ["Léa"]
    assert "refresh_token" in token
