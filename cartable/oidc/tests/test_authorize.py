"""Authorization endpoint: login first, PKCE required, consent asked once, refusals in French."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cartable.oidc.models import Consent
from cartable.oidc.testing import authorize_params, exchange, make_client, obtain_code, pkce_pair, query_of

pytestmark = pytest.mark.django_db
AUTHORIZE = "/oidc/authorize/"


def test_the_issuer_paths():
    assert reverse("oauth2_provider:authorize") == AUTHORIZE
    assert reverse("oauth2_provider:oidc-connect-discovery-info") == "/oidc/.well-known/openid-configuration"


def test_anonymous_goes_to_the_portal_login_and_comes_back(client):
    app, _secret = make_client()
    _verifier, challenge = pkce_pair()
    response = client.get(AUTHORIZE, authorize_params(app, challenge))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:start") + "?next=/oidc/authorize/%3Fresponse_type%3Dcode")


def test_consent_page_in_french_then_remembered(client, parent):
    app, secret = make_client()
    client.force_login(parent)
    verifier, challenge = pkce_pair()
    params = authorize_params(app, challenge, "openid profile")
    page = client.get(AUTHORIZE, params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Catalogue du CDI demande à utiliser votre compte Cartable" in html
    assert "connaître vos prénom et nom" in html
    # The consent form's redirect goes to the client: the CSP lets that form reach its origin only.
    assert "form-action 'self' http://127.0.0.1:9" in page["Content-Security-Policy"]
    assert "script-src 'self'" in page["Content-Security-Policy"]

    response = client.post(AUTHORIZE, {**params, "allow": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://127.0.0.1:9/rp/callback?")
    assert Consent.objects.get(user=parent, application=app).scope == "openid profile"

    # Second time: no page, straight back with a code that works.
    verifier, challenge = pkce_pair()
    again = client.get(AUTHORIZE, authorize_params(app, challenge, "profile openid"))
    assert again.status_code == 302
    code = query_of(again["Location"])["code"]
    assert exchange(Client(), app, secret, code, verifier).status_code == 200

    # More scopes than consented: asked again.
    _verifier, challenge = pkce_pair()
    assert client.get(AUTHORIZE, authorize_params(app, challenge, "openid profile email")).status_code == 200
    # prompt=consent asks again too.
    assert client.get(AUTHORIZE, authorize_params(app, challenge, "openid", prompt="consent")).status_code == 200


def test_refusing_sends_access_denied_and_remembers_nothing(client, parent):
    app, _secret = make_client()
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    params = authorize_params(app, challenge)
    response = client.post(AUTHORIZE, params)  # no "allow"
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "access_denied"
    assert not Consent.objects.exists()


def test_trusted_client_never_asks(client, parent):
    app, _secret = make_client(trusted=True)
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    response = client.get(AUTHORIZE, authorize_params(app, challenge, "openid profile ent"))
    assert response.status_code == 302
    assert "code" in query_of(response["Location"])


def test_unregistered_redirect_uri_is_refused_on_a_page_not_redirected(client, parent):
    app, _secret = make_client()
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    response = client.get(AUTHORIZE, authorize_params(app, challenge, redirect_uri="https://pirate.example/cb"))
    assert response.status_code == 400
    assert "L&#x27;adresse de retour demandée n&#x27;est pas enregistrée" in response.content.decode()
    assert "pirate.example" not in response.get("Location", "")


def test_unknown_client_is_refused(client, parent):
    client.force_login(parent)
    response = client.get(AUTHORIZE, {"response_type": "code", "client_id": "inconnu", "redirect_uri": "https://x.example/"})
    assert response.status_code == 400
    assert "n&#x27;est pas enregistré auprès de Cartable" in response.content.decode()


def test_pkce_is_required_even_for_confidential_clients(client, parent):
    app, _secret = make_client(trusted=True)
    client.force_login(parent)
    response = client.get(AUTHORIZE, authorize_params(app, None))
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["error"] == "invalid_request" and "code" not in query


def test_plain_pkce_is_refused(client, parent):
    app, _secret = make_client(trusted=True)
    client.force_login(parent)
    verifier, _challenge = pkce_pair()
    params = authorize_params(app, None, code_challenge=verifier, code_challenge_method="plain")
    response = client.get(AUTHORIZE, params)
    assert "code" not in query_of(response["Location"])


def test_pkce_mismatch_and_missing_verifier_fail_at_the_token_endpoint(client, parent):
    app, secret = make_client(trusted=True)
    client.force_login(parent)
    code, _verifier = obtain_code(client, app)
    wrong, _ = pkce_pair()
    response = exchange(Client(), app, secret, code, wrong)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    code, _verifier = obtain_code(client, app)
    response = exchange(Client(), app, secret, code, None)
    assert response.status_code == 400 and "access_token" not in response.json()


def test_disabled_and_merged_accounts_get_no_code(client, parent, pupil):
    app, _secret = make_client(trusted=True)
    _verifier, challenge = pkce_pair()
    parent.merged_into = pupil  # any other account
    parent.save()
    client.force_login(parent)
    response = client.get(AUTHORIZE, authorize_params(app, challenge))
    assert response.status_code == 403
    assert "Ce compte est fermé ou désactivé" in response.content.decode()


def test_from_our_own_pages_the_way_back_is_a_page_not_a_redirect(client, parent):
    """After the login form (same-origin), a redirect to the client would fall under the login
    page's CSP form-action in Chromium: a page with a meta refresh and a link goes on instead."""
    app, _secret = make_client(trusted=True)
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    page = client.get(AUTHORIZE, authorize_params(app, challenge), HTTP_SEC_FETCH_SITE="same-origin")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/rp/callback?code=' in html
    assert "Continuer vers le service" in html
    _verifier, challenge = pkce_pair()
    redirect = client.get(AUTHORIZE, authorize_params(app, challenge), HTTP_SEC_FETCH_SITE="cross-site")
    assert redirect.status_code == 302 and redirect["Location"].startswith("http://127.0.0.1:9/rp/callback?code=")


def test_the_code_comes_back_with_the_issuer(client, parent):
    """RFC 9207: the redirect names the issuer, so a client talking to several providers is not misled."""
    app, _secret = make_client(trusted=True)
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    response = client.get(AUTHORIZE, authorize_params(app, challenge))
    assert query_of(response["Location"])["iss"] == "http://testserver/oidc"


def test_prompt_none_without_consent_answers_consent_required(client, parent):
    app, _secret = make_client()
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    params = authorize_params(app, challenge, "openid", prompt="none")
    response = client.get(AUTHORIZE, params)
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"error": "consent_required", "state": params["state"]}
    # Once consented, prompt=none gets its code without a page.
    client.post(AUTHORIZE, {**authorize_params(app, challenge, "openid"), "allow": "on"})
    assert "code" in query_of(client.get(AUTHORIZE, {**params, "state": "s2"})["Location"])


def test_prompt_none_when_signed_out_answers_login_required(client):
    app, _secret = make_client(trusted=True)
    _verifier, challenge = pkce_pair()
    params = authorize_params(app, challenge, "openid", prompt="none")
    response = client.get(AUTHORIZE, params)
    assert response.status_code == 302
    assert query_of(response["Location"]) == {"error": "login_required", "state": params["state"]}


def test_a_newer_charter_is_accepted_before_the_service_opens(client, parent):
    from cartable.accounts.models import Charter

    Charter.objects.create(version=2, text="Nouvelles règles")
    app, _secret = make_client(trusted=True)
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    response = client.get(AUTHORIZE, authorize_params(app, challenge))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("activation:charter_update") + "?next=%2Foidc%2Fauthorize%2F")
