"""The FranceConnect views with Django's test client (the provider's answers stubbed).

The real redirect flow against a real provider is in test_browser.py; here, every branch: the
button hidden or shown, the start, each refusal on return (a French message, no session), the
known `sub` (merged, deactivated), and the logout through the provider.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import AuditEvent, ExternalIdentity
from cartable.franceconnect import client as oidc
from cartable.franceconnect import services
from cartable.franceconnect.client import Failure, FranceConnectError, Tokens
from cartable.portal.choice import PortalChoice

ISSUER = "https://fc.example.test/api/v2"
BUTTON = "identifier avec</span>"
DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "userinfo_endpoint": f"{ISSUER}/userinfo",
    "jwks_uri": f"{ISSUER}/jwks",
    "end_session_endpoint": f"{ISSUER}/session/end",
}


@pytest.fixture
def configured(settings, monkeypatch):
    settings.SITE_URL = "http://testserver"
    settings.FRANCECONNECT_ISSUER = ISSUER
    settings.FRANCECONNECT_CLIENT_ID = "cartable-client"
    settings.FRANCECONNECT_CLIENT_SECRET = "s" * 40
    monkeypatch.setattr(oidc, "metadata", lambda: dict(DOCUMENT))


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def put_flow(client_, state: str = "s" * 43, **extra) -> str:
    session = client_.session
    session[services.FLOW_KEY] = {"state": state, "nonce": "n" * 43, "next": "", "started": int(time.time()), **extra}
    session.save()
    return state


def stub_provider(monkeypatch, sub: str = "claire", *, id_token: str = "id.token.value") -> None:  # noqa: S107
    """The provider's answer: tokens and userinfo for `sub`, as client.py would have verified them."""

    def complete(request):
        request.session.pop(services.FLOW_KEY, None)
        return Tokens("access", id_token, {"sub": sub}), {"sub": sub, "given_name": "Claire"}, ""

    monkeypatch.setattr(services, "complete", complete)


def assert_no_session(client_) -> None:
    assert SESSION_KEY not in client_.session
    assert client_.get(reverse("portal:home"))["Location"].startswith(reverse("portal:start"))


# --- The button --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["FRANCECONNECT_ISSUER", "FRANCECONNECT_CLIENT_ID"])
def test_button_hidden_and_views_off_when_not_configured(client, settings, missing):
    settings.FRANCECONNECT_ISSUER = ISSUER
    settings.FRANCECONNECT_CLIENT_ID = "cartable-client"
    setattr(settings, missing, "")
    page = client.get(reverse("portal:login")).content.decode()
    assert BUTTON not in page and "franceconnect" not in page
    assert client.get(reverse("franceconnect:start")).status_code == 404
    assert client.get(reverse("franceconnect:callback"), {"code": "x", "state": "y"}).status_code == 404


@pytest.mark.django_db
def test_button_shown_when_configured(client, configured):
    page = client.get(reverse("portal:login"), {"next": "/mon-compte/"}).content.decode()
    assert BUTTON in page and "FranceConnect" in page
    assert f'href="{reverse("franceconnect:start")}?next=/mon-compte/"' in page
    assert "franceconnect/franceconnect.css" in page and "franceconnect-logo.svg" in page
    # Served by Cartable: no third-party script, style or image.
    assert "<script src=\"http" not in page and 'href="http' not in page.replace('href="https://franceconnect.gouv.fr/"', "")


def test_button_only_for_pupils_and_parents(configured):
    template = Template("{% load franceconnect %}{% franceconnect_button %}")
    assert "FranceConnect" in template.render(Context({"choice": PortalChoice("eleve_parent", "college")}))
    assert "FranceConnect" in template.render(Context({}))
    assert "FranceConnect" not in template.render(Context({"choice": PortalChoice("education_nationale", "college")}))


# --- Start ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_start_sends_to_the_provider_with_state_nonce_and_acr(client, configured):
    response = client.get(reverse("franceconnect:start"), {"next": "/mon-compte/"})
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    flow = client.session[services.FLOW_KEY]
    assert query["state"] == flow["state"] and len(flow["state"]) >= 32
    assert query["nonce"] == flow["nonce"] and len(flow["nonce"]) >= 32
    assert flow["state"] != flow["nonce"]
    assert query["acr_values"] == "eidas1"
    assert query["scope"] == "openid given_name family_name birthdate email"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/franceconnect/retour/"
    assert flow["next"] == "/mon-compte/"
    # A second start: new values.
    client.get(reverse("franceconnect:start"))
    assert client.session[services.FLOW_KEY]["state"] != flow["state"]


@pytest.mark.django_db
def test_start_drops_a_foreign_next(client, configured):
    client.get(reverse("franceconnect:start"), {"next": "https://ailleurs.example/"})
    assert client.session[services.FLOW_KEY]["next"] == ""


@pytest.mark.django_db
def test_start_with_the_provider_unreachable(client, settings, caplog):
    settings.FRANCECONNECT_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    settings.FRANCECONNECT_CLIENT_ID = "cartable-client"
    settings.FRANCECONNECT_TIMEOUT_SECONDS = 2
    response = client.get(reverse("franceconnect:start"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:login")
    assert "FranceConnect ne répond pas pour le moment." in response.content.decode()
    assert services.FLOW_KEY not in client.session
    assert "FranceConnect login refused (unavailable)" in caplog.text


# --- Back from the provider: refusals -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"error": "access_denied", "error_description": "annulé"}, "Vous avez annulé la connexion avec FranceConnect."),
        ({"error": "server_error"}, "La connexion avec FranceConnect n'a pas abouti."),
        ({"code": "c", "iss": "https://usurpateur.example"}, "La connexion avec FranceConnect n'a pas abouti."),
        ({}, "La connexion avec FranceConnect n'a pas abouti."),  # no code
    ],
)
def test_provider_answers_refused(client, configured, params, message):
    state = put_flow(client)
    response = client.get(reverse("franceconnect:callback"), {"state": state, **params})
    assert response["Location"] == reverse("portal:login")
    assert texts(response)[0].startswith(message)
    assert services.FLOW_KEY not in client.session  # single use
    assert_no_session(client)


@pytest.mark.django_db
@pytest.mark.parametrize("state", [None, "", "x" * 43, "s" * 42])
def test_wrong_or_missing_state(client, configured, state):
    put_flow(client)
    params = {"code": "c"} if state is None else {"code": "c", "state": state}
    response = client.get(reverse("franceconnect:callback"), params)
    assert "n'est plus valable" in texts(response)[0]
    assert_no_session(client)


@pytest.mark.django_db
def test_no_login_in_progress(client, configured):
    response = client.get(reverse("franceconnect:callback"), {"code": "c", "state": "s" * 43})
    assert "n'est plus valable" in texts(response)[0]


@pytest.mark.django_db
def test_login_started_too_long_ago(client, configured):
    state = put_flow(client, started=int(time.time()) - services.FLOW_MAX_SECONDS - 1)
    response = client.get(reverse("franceconnect:callback"), {"code": "c", "state": state})
    assert "n'est plus valable" in texts(response)[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (Failure.INVALID, "La connexion avec FranceConnect n'a pas abouti."),  # a bad signature, a used code
        (Failure.UNAVAILABLE, "FranceConnect ne répond pas pour le moment."),  # a network failure
    ],
)
def test_token_exchange_failures(client, configured, monkeypatch, caplog, failure, message, parent):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")

    def refuse(code, nonce):
        raise FranceConnectError(failure, "stubbed refusal")

    monkeypatch.setattr(oidc, "exchange_code", refuse)
    state = put_flow(client)
    response = client.get(reverse("franceconnect:callback"), {"code": "le-code-secret", "state": state}, follow=True)
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert_no_session(client)
    assert "stubbed refusal" in caplog.text and "le-code-secret" not in caplog.text


# --- Back from the provider: a known `sub` ------------------------------------------------------


@pytest.mark.django_db
def test_known_sub_logs_in(client, configured, monkeypatch, parent):
    identity = ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    stub_provider(monkeypatch)
    response = client.get(reverse("franceconnect:callback"))
    assert response["Location"] == reverse("portal:home")
    assert int(client.session[SESSION_KEY]) == parent.pk
    assert client.session[services.ID_TOKEN_KEY] == "id.token.value"
    identity.refresh_from_db()
    assert identity.last_used_at is not None and identity.last_used_at <= timezone.now()
    assert AuditEvent.objects.filter(action="franceconnect_login", target_username=parent.username).exists()


@pytest.mark.django_db
def test_known_sub_of_a_merged_account_logs_into_the_kept_one(client, configured, monkeypatch, parent, etab):
    from cartable.conftest import make_user

    old = make_user("claire.exemple2", "responsable", etab, first_name="Claire", last_name="EXEMPLE")
    old.merged_into = parent
    old.is_active = False
    old.save()
    ExternalIdentity.objects.create(user=old, provider="franceconnect", subject="claire")
    stub_provider(monkeypatch)
    client.get(reverse("franceconnect:callback"))
    assert int(client.session[SESSION_KEY]) == parent.pk


@pytest.mark.django_db
def test_known_sub_of_a_deactivated_account(client, configured, monkeypatch, parent):
    parent.is_active = False
    parent.save()
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    stub_provider(monkeypatch)
    response = client.get(reverse("franceconnect:callback"))
    assert response["Location"] == reverse("portal:login")
    assert texts(response)[0].startswith("Votre compte est désactivé : contactez votre établissement.")
    assert_no_session(client)


@pytest.mark.django_db
def test_known_sub_goes_to_next(client, configured, monkeypatch, parent):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")

    def complete(request):
        return Tokens("a", "i", {"sub": "claire"}), {"sub": "claire"}, "/mon-compte/"

    monkeypatch.setattr(services, "complete", complete)
    assert client.get(reverse("franceconnect:callback"))["Location"] == "/mon-compte/"


@pytest.mark.django_db
def test_unknown_sub_starts_the_first_use(client, configured, monkeypatch):
    stub_provider(monkeypatch, sub="inconnu")
    response = client.get(reverse("franceconnect:callback"))
    assert response["Location"] == reverse("registration:mobile")
    assert SESSION_KEY not in client.session
    # Kept across the registration's session rotation, for the logout.
    assert client.session[services.ID_TOKEN_KEY] == "id.token.value"


# --- Logout ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_of_a_franceconnect_session_ends_the_provider_session(client, configured, monkeypatch, parent):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    stub_provider(monkeypatch, id_token="the.id.token")
    client.get(reverse("franceconnect:callback"))

    response = client.post(reverse("portal:logout"))
    assert response.status_code == 200
    page = response.content.decode()
    assert SESSION_KEY not in client.session and services.ID_TOKEN_KEY not in client.session
    url = urlsplit(response.context["provider_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/session/end"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["id_token_hint"] == "the.id.token"
    assert query["post_logout_redirect_uri"] == "http://testserver/franceconnect/deconnecte/"
    assert query["state"] == client.session[services.LOGOUT_STATE_KEY] and len(query["state"]) >= 32
    assert '<meta http-equiv="refresh" content="0;url=' in page
    assert "Terminer la déconnexion de FranceConnect" in page

    # The provider sends the browser back with our state.
    back = client.get(reverse("franceconnect:logged_out"), {"state": query["state"]})
    assert back["Location"] == reverse("portal:index")
    assert texts(back) == ["Vous êtes déconnecté de Cartable et de FranceConnect. À bientôt !"]
    assert services.LOGOUT_STATE_KEY not in client.session


@pytest.mark.django_db
def test_logged_out_with_a_wrong_state(client, configured):
    session = client.session
    session[services.LOGOUT_STATE_KEY] = "s" * 43
    session.save()
    back = client.get(reverse("franceconnect:logged_out"), {"state": "x" * 43})
    assert texts(back) == ["Vous êtes déconnecté. À bientôt !"]


@pytest.mark.django_db
def test_logout_with_the_provider_unreachable(client, configured, monkeypatch, parent):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    stub_provider(monkeypatch)
    client.get(reverse("franceconnect:callback"))

    def unreachable():
        raise FranceConnectError(Failure.UNAVAILABLE, "GET discovery: ConnectTimeout")

    monkeypatch.setattr(oidc, "metadata", unreachable)
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == reverse("portal:index")
    assert "FranceConnect n'a pas pu être joint" in texts(response)[0]
    assert_no_session(client)


@pytest.mark.django_db
def test_logout_of_a_password_session_is_unchanged(client, configured, parent):
    from cartable.conftest import PASSWORD

    client.post(reverse("portal:login"), {"identifiant": parent.username, "mot_de_passe": PASSWORD})
    assert SESSION_KEY in client.session
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == reverse("portal:index")
    assert texts(response) == ["Vous êtes déconnecté. À bientôt !"]
