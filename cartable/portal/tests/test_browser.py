"""The login journey in a real browser (Debian's chromium driven by Playwright).

home → Se connecter → profile → level → Mémoriser Oui → login form → wrong password →
right password → home with the parent's child → Se déconnecter; then the same pages at
360×740 without horizontal overflow. Every request must go to the live server only.

Set CARTABLE_SCREENSHOTS=/some/dir to keep screenshots of each page (desktop and phone).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cartable.conftest import PASSWORD
from cartable.lib.browser import require_chromium

SHOTS = os.environ.get("CARTABLE_SCREENSHOTS", "")

sync_api = require_chromium()


class Requests:
    """Records every request a page makes, to prove none leaves the live server."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.foreign: list[str] = []

    def __call__(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def assert_no_horizontal_overflow(page, label: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{label}: the page is {overflow}px wider than the 360px screen"


def open_page(browser, live_server, **context_options):
    context = browser.new_context(locale="fr-FR", **context_options)
    page = context.new_page()
    requests = Requests(live_server.url)
    page.on("request", requests)
    errors: list[str] = []
    # A CSP violation or a script error shows up here: pages must have none.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, requests, errors


@pytest.mark.django_db(transaction=True)
def test_login_journey(browser, live_server, parent, pupil):
    context, page, requests, errors = open_page(browser, live_server, viewport={"width": 1280, "height": 900})

    page.goto(live_server.url + "/")
    shot(page, "desktop-1-index")
    page.get_by_role("main").get_by_role("link", name="Se connecter").click()

    page.get_by_role("button", name="Élève ou parent").click()
    shot(page, "desktop-2-profile-level")
    page.get_by_label("Collège").check()
    page.get_by_label("Oui (je me connecte depuis mon ordinateur)").check()
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url("**/connexion/identifiant/")
    assert "Élève ou parent · Collège" in page.inner_text("main")
    page.get_by_label("Identifiant").fill(parent.username)
    page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon")
    # The show/hide toggle (static JS) reveals the password, and hides it again.
    page.get_by_role("button", name="Afficher le mot de passe").click()
    assert page.get_by_label("Mot de passe", exact=True).get_attribute("type") == "text"
    page.get_by_role("button", name="Masquer le mot de passe").click()
    assert page.get_by_label("Mot de passe", exact=True).get_attribute("type") == "password"
    page.get_by_role("button", name="Se connecter").click()

    alert = page.get_by_role("alert")
    assert "Identifiant ou mot de passe incorrect." in alert.inner_text()
    shot(page, "desktop-3-login-error")
    # The identifier is kept, the password is not.
    assert page.get_by_label("Identifiant").input_value() == parent.username
    assert page.get_by_label("Mot de passe", exact=True).input_value() == ""
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url("**/accueil/")
    main = page.get_by_role("main").inner_text()
    assert "Bonjour Claire EXEMPLE" in main
    assert "Léa EXEMPLE" in main and "6e A" in main
    shot(page, "desktop-4-home")

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(live_server.url + "/")
    assert "Vous êtes déconnecté" in page.get_by_role("status").inner_text()

    # "Mémoriser ce choix : Oui": the next visit goes straight to the login form.
    page.goto(live_server.url + "/connexion/")
    page.wait_for_url("**/connexion/identifiant/")
    assert "Changer de profil" in page.inner_text("main")

    assert requests.foreign == []
    assert errors == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_phone_width_has_no_horizontal_overflow(browser, live_server, parent, pupil):
    context, page, requests, errors = open_page(
        browser, live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    pages = [
        ("phone-1-index", "/"),
        ("phone-2-profile", "/connexion/"),
        ("phone-3-level", "/connexion/?profil=eleve_parent"),
        ("phone-4-login", "/connexion/identifiant/?identifiant=claire.exemple"),
        ("phone-5-help", "/aide/"),
        ("phone-6-activation", "/activation/"),
    ]
    for name, path in pages:
        page.goto(live_server.url + path)
        assert_no_horizontal_overflow(page, path)
        shot(page, name)

    # Prefilled from the letter's QR code; log in and check the home page too.
    page.goto(live_server.url + "/connexion/identifiant/?identifiant=claire.exemple")
    assert page.get_by_label("Identifiant").input_value() == "claire.exemple"
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")
    assert_no_horizontal_overflow(page, "/accueil/")
    shot(page, "phone-7-home")

    # An error state is the widest the login form gets.
    page.goto(live_server.url + "/deconnexion/")
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_role("button", name="Se connecter").click()
    assert_no_horizontal_overflow(page, "login errors")
    shot(page, "phone-8-login-errors")

    assert requests.foreign == []
    assert errors == []
    context.close()
