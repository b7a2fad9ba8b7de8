"""FranceConnect in a real browser against a real OpenID Connect provider (node's oidc-provider).

Cartable runs on pytest-django's live server, the provider on another port of 127.0.0.1 (see
conftest.py); Debian's chromium goes through the whole redirect flow: the button, the provider's
login and consent pages, the callback, the home page; the logout through the provider's
end_session; and the refusals (access_denied, a wrong state, a replayed code), each a French
message on the login page and no session.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from cartable.accounts.models import AuditEvent, ExternalIdentity
from cartable.delivery.testing import last_sms_code
from cartable.lib.browser import require_chromium
from cartable.portal.tests.test_browser import assert_no_horizontal_overflow, shot

from .conftest import FC_PASSWORD

sync_api = require_chromium()

BUTTON = "S'identifier avec FranceConnect"
PROVIDER_LOGIN_TITLE = "Connexion au fournisseur de test"


def open_page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    # A CSP violation or a script error on Cartable's pages shows up here.
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def cartable_errors(errors: list[str], live_server) -> list[str]:
    return [e for e in errors if e.startswith(live_server.url)]


def click_franceconnect(page, live_server) -> None:
    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_role("link", name=BUTTON).click()


def provider_login(page, login: str = "claire", password: str = FC_PASSWORD) -> None:
    page.wait_for_selector(f"h1:has-text('{PROVIDER_LOGIN_TITLE}')")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_selector("h1:has-text('Autoriser la transmission de vos données')")
    page.get_by_role("button", name="Continuer").click()


def record_callbacks(page, live_server) -> list[str]:
    """The callback URLs the browser opens (the provider's answers), in order."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.url.startswith(live_server.url + "/franceconnect/retour/") else None)
    return seen


def start_without_following(page, live_server) -> str:
    """Click-equivalent of the button whose redirect is not followed: the state it carries."""
    response = page.request.get(live_server.url + "/franceconnect/connexion/", max_redirects=0)
    assert response.status == 302
    return parse_qs(urlsplit(response.headers["location"]).query)["state"][0]


def with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


def session_cookie(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"].endswith("sessionid")]


def assert_logged_out(page, live_server) -> None:
    page.goto(live_server.url + "/accueil/")
    assert "/connexion/" in page.url, page.url


def assert_refused_on_login_page(page, message: str) -> None:
    page.wait_for_url("**/connexion/identifiant/")
    assert message in page.get_by_role("main").inner_text()
    assert page.get_by_role("button", name="Se déconnecter").count() == 0


@pytest.mark.django_db(transaction=True)
def test_known_identity_logs_in_straight_and_logout_ends_the_provider_session(
    browser, live_server, oidc_provider, parent
):
    identity = ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    context, page, errors = open_page(browser)

    # 1. The button on the login page → the provider's login and consent pages → home.
    page.goto(live_server.url + "/connexion/identifiant/")
    shot(page, "franceconnect-1-login-page")
    page.set_viewport_size({"width": 360, "height": 740})
    assert_no_horizontal_overflow(page, "login page with the FranceConnect button")
    shot(page, "franceconnect-1-login-page-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    click_franceconnect(page, live_server)
    authorize = urlsplit(page.url)
    assert authorize.netloc == urlsplit(oidc_provider.issuer).netloc
    provider_login(page)
    page.wait_for_url(live_server.url + "/accueil/")
    assert page.get_by_role("button", name="Se déconnecter").is_visible()
    identity.refresh_from_db()
    assert identity.last_used_at is not None and identity.last_used_at <= timezone.now()
    assert AuditEvent.objects.filter(action="franceconnect_login", target_username=parent.username).count() == 1

    # 2. A second login while the provider's session lives: no page at the provider, straight in.
    context.clear_cookies(name=session_cookie(context)[0]["name"])
    assert_logged_out(page, live_server)
    click_franceconnect(page, live_server)
    page.wait_for_url(live_server.url + "/accueil/")
    assert AuditEvent.objects.filter(action="franceconnect_login", target_username=parent.username).count() == 2

    # 3. Logging out of Cartable goes through the provider's end_session and back.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(live_server.url + "/")
    assert "Vous êtes déconnecté de Cartable et de FranceConnect." in page.get_by_role("main").inner_text()
    assert_logged_out(page, live_server)

    # 4. The provider's session is over: a new FranceConnect login asks for the login again.
    click_franceconnect(page, live_server)
    page.wait_for_selector(f"h1:has-text('{PROVIDER_LOGIN_TITLE}')")
    assert urlsplit(page.url).netloc == urlsplit(oidc_provider.issuer).netloc
    assert cartable_errors(errors, live_server) == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_access_denied_at_the_provider(browser, live_server, oidc_provider, parent):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    context, page, errors = open_page(browser)
    click_franceconnect(page, live_server)
    page.wait_for_selector(f"h1:has-text('{PROVIDER_LOGIN_TITLE}')")
    page.get_by_role("button", name="Annuler").click()  # the provider answers error=access_denied
    assert_refused_on_login_page(page, "Vous avez annulé la connexion avec FranceConnect.")
    shot(page, "franceconnect-2-access-denied")
    assert_logged_out(page, live_server)
    assert not AuditEvent.objects.filter(action="franceconnect_login").exists()
    assert cartable_errors(errors, live_server) == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_wrong_state(browser, live_server, oidc_provider, parent):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    context, page, errors = open_page(browser)
    click_franceconnect(page, live_server)
    page.wait_for_selector(f"h1:has-text('{PROVIDER_LOGIN_TITLE}')")
    state = start_without_following(page, live_server)  # the login in progress, its state known
    callback = live_server.url + "/franceconnect/retour/"
    # An answer with a state this browser was never given: refused before the code is looked at.
    page.goto(f"{callback}?{urlencode({'code': 'quelconque', 'state': 'x' * 43})}")
    assert_refused_on_login_page(page, "n'est plus valable")
    # …and the login in progress is over: its own state is not accepted any more either.
    page.goto(f"{callback}?{urlencode({'code': 'quelconque', 'state': state})}")
    assert_refused_on_login_page(page, "n'est plus valable")
    # No state at all.
    page.goto(f"{callback}?{urlencode({'code': 'quelconque'})}")
    assert_refused_on_login_page(page, "n'est plus valable")
    assert_logged_out(page, live_server)
    assert not AuditEvent.objects.filter(action="franceconnect_login").exists()
    assert cartable_errors(errors, live_server) == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_replayed_callback_and_replayed_code(browser, live_server, oidc_provider, parent, caplog):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="claire")
    context, page, errors = open_page(browser)
    seen = record_callbacks(page, live_server)
    click_franceconnect(page, live_server)
    provider_login(page)
    page.wait_for_url(live_server.url + "/accueil/")
    first = seen[0]

    # The session ends (cookie gone); re-opening the same callback URL finds no login in progress.
    context.clear_cookies(name=session_cookie(context)[0]["name"])
    page.goto(first)
    assert_refused_on_login_page(page, "n'est plus valable")
    assert_logged_out(page, live_server)

    # A new login in progress, and the old, already used code sent with its state: the provider
    # refuses the code (invalid_grant), Cartable says so and opens no session.
    new_state = start_without_following(page, live_server)
    page.goto(with_params(first, state=new_state))
    assert_refused_on_login_page(page, "La connexion avec FranceConnect n'a pas abouti.")
    assert_logged_out(page, live_server)
    assert AuditEvent.objects.filter(action="franceconnect_login").count() == 1
    assert "token endpoint refused the code (invalid_grant)" in caplog.text
    assert parse_qs(urlsplit(first).query)["code"][0] not in caplog.text  # no code, no token in the log
    assert cartable_errors(errors, live_server) == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_first_use_then_straight_in(browser, live_server, oidc_provider, parent, pupil):
    """First use: the provider's identity, then the mobile, the SMS code, the child's birth date."""
    parent.person.mobile = "06 12 34 56 78"  # the number the school recorded
    parent.person.save()
    context, page, errors = open_page(browser)

    click_franceconnect(page, live_server)
    provider_login(page)  # Claire Marie EXEMPLE at the provider, `sub` "claire", unknown here
    page.wait_for_url("**/inscription/portable/")
    assert "Première connexion avec FranceConnect" in page.inner_text("main")
    page.get_by_label("Numéro de téléphone portable").fill("06 12 34 56 78")
    page.get_by_role("button", name="Recevoir un code par SMS").click()

    page.wait_for_url("**/inscription/code/")
    page.get_by_label("Code reçu par SMS").fill(last_sms_code("+33612345678"))
    page.get_by_role("button", name="Valider le code").click()

    page.wait_for_url("**/inscription/enfants/")
    page.get_by_label("Date de naissance de Léa").fill("14/03/2015")
    page.get_by_role("button", name="Continuer").click()
    if "/inscription/terminer/" in page.url:  # the flow's last step when it was not done at once
        page.get_by_role("button", name="Activer mon compte et me connecter").click()
    page.wait_for_url(live_server.url + "/accueil/")
    identity = ExternalIdentity.objects.get(provider="franceconnect", subject="claire")
    assert identity.user_id == parent.pk

    # The id_token survived the registration's session rotation: logging out ends the provider's
    # session too, so the next FranceConnect login asks the provider's login again…
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(live_server.url + "/")
    assert "Vous êtes déconnecté de Cartable et de FranceConnect." in page.get_by_role("main").inner_text()
    click_franceconnect(page, live_server)
    # …and, the `sub` now linked, goes straight to the home page (no mobile, no code).
    provider_login(page)
    page.wait_for_url(live_server.url + "/accueil/")
    assert AuditEvent.objects.filter(action="franceconnect_login", target_username=parent.username).count() == 1
    assert cartable_errors(errors, live_server) == []
    context.close()
