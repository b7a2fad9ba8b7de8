"""Security baseline on real responses: headers, cookies, CSRF, error pages."""

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from cartable.conftest import PASSWORD
from cartable.portal.tests.helpers import choose, log_in, login


@pytest.mark.parametrize("path", ["/", "/connexion/", "/connexion/identifiant/", "/aide/", "/page-inexistante/"])
def test_security_headers(client, db, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_security_headers_on_the_logged_in_home(client, parent):
    log_in(client, parent.username)
    response = client.get(reverse("portal:home"))
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]


def test_static_files_get_the_csp_too(client, db):
    response = client.get("/static/portal/cartable.css")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert response["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_lax(client, parent):
    response = login(client, parent.username)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # the test site is http://


def test_session_cookie_is_secure_over_https(client, parent, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = login(client, parent.username)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True


def test_login_without_csrf_token_is_refused_with_a_french_page(parent):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:login"), {"identifiant": parent.username, "mot_de_passe": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Ce formulaire a expiré" in html
    assert "CSRF" not in html and "Traceback" not in html
    assert "_auth_user_id" not in client.session


def test_login_with_csrf_token_works(parent):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("portal:login"))
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("portal:login"), {"identifiant": parent.username, "mot_de_passe": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_portal_choice_needs_csrf(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("portal:start"), {"profil": "eleve_parent", "niveau": "college", "memoriser": "oui"})
    assert response.status_code == 403


def test_404_is_french(client, db):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page introuvable" in html and '<html lang="fr">' in html


def test_500_is_french(db):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Une erreur est survenue" in html and '<html lang="fr">' in html


def test_403_is_french(client, db):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    response = permission_denied(RequestFactory().get("/"), PermissionDenied())
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_login_pages_are_not_cached(client, db):
    for url in (reverse("portal:start"), reverse("portal:login")):
        assert "no-store" in client.get(url)["Cache-Control"]


def test_choice_cookie_cannot_be_forged(client, db):
    from cartable.portal.choice import cookie_name

    choose(client, remember=True)
    value = client.cookies[cookie_name()].value
    client.cookies[cookie_name()] = value.replace("college", "lycee")
    client.cookies.pop("sessionid")
    assert client.get(reverse("portal:start")).status_code == 200  # ignored: back to step 1
