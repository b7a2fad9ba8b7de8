"""Forgotten password by e-mail in a real browser (Debian's chromium driven by Playwright).

login page → "Mot de passe oublié ?" → identifier → the e-mail arrives at a real SMTP server
(aiosmtpd) → its link → new password, with the live checklist → "Se connecter" → home.
Then the recovery and "Mon compte" pages at 360×740 without horizontal overflow. No request
may leave the live server, no script error or CSP violation may occur, and the token of the
link must never be sent in a Referer header.

Set CARTABLE_SCREENSHOTS=/some/dir to keep screenshots of each page.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cartable.lib.browser import require_chromium

from .conftest import ADDRESS, NEW_PASSWORD

SHOTS = os.environ.get("CARTABLE_SCREENSHOTS", "")

sync_api = require_chromium()


class Watch:
    """Every request the page makes (to prove none leaves the server), and their Referers."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.foreign: list[str] = []
        self.referers: list[str] = []

    def __call__(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)
        self.referers.append(request.headers.get("referer", ""))


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def open_page(browser, live_server, **options):
    context = browser.new_context(locale="fr-FR", **options)
    page = context.new_page()
    watch = Watch(live_server.url)
    page.on("request", watch)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, watch, errors


@pytest.mark.django_db(transaction=True)
def test_forgotten_password_by_email(browser, live_server, smtp_server, settings, email_parent):
    settings.SITE_URL = live_server.url  # links in e-mails point at the live server
    context, page, watch, errors = open_page(browser, live_server, viewport={"width": 1280, "height": 900})

    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Votre identifiant").fill("claire.exemple")
    shot(page, "recovery-1-identifier")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/recuperation/mot-de-passe/suite/")
    assert "Vérifiez vos courriels ou vos SMS" in page.inner_text("h1")
    shot(page, "recovery-2-next")

    message = smtp_server.wait_for(ADDRESS)
    link = smtp_server.link_in(message, "/recuperation/mot-de-passe/lien/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    page.goto(link)
    page.wait_for_url("**/recuperation/mot-de-passe/nouveau/")
    assert token not in page.url

    new = page.get_by_label("Nouveau mot de passe", exact=True)
    again = page.get_by_label("Confirmez le nouveau mot de passe")
    new.fill("court")
    checks = page.locator(".password-checks")
    assert "Pas encore : Au moins 8 caractères" in checks.inner_text()
    new.fill(NEW_PASSWORD)
    again.fill(NEW_PASSWORD)
    assert "Respecté : Au moins 8 caractères" in checks.inner_text()
    assert "Respecté : Les deux saisies sont identiques" in checks.inner_text()
    assert "_checks" in (new.get_attribute("aria-describedby") or "")
    shot(page, "recovery-3-new-password")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()

    page.wait_for_url("**/recuperation/mot-de-passe/termine/")
    assert "Mot de passe modifié" in page.inner_text("h1")
    page.get_by_role("main").get_by_role("link", name="Se connecter").click()
    page.wait_for_url("**/connexion/identifiant/?identifiant=claire.exemple")
    assert page.get_by_label("Identifiant").input_value() == "claire.exemple"
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")
    assert "Bonjour Claire EXEMPLE" in page.get_by_role("main").inner_text()

    notice = smtp_server.wait_for(ADDRESS, count=2)
    assert "a été modifié" in notice["Subject"]
    assert watch.foreign == []
    assert not [referer for referer in watch.referers if token in referer]
    assert errors == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_phone_width_has_no_horizontal_overflow(browser, live_server, email_parent):
    context, page, watch, errors = open_page(
        browser, live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    pages = ["/recuperation/identifiant/", "/recuperation/mot-de-passe/"]
    for path in pages:
        page.goto(live_server.url + path)
        _no_overflow(page, path)
    page.get_by_label("Votre identifiant").fill("claire.exemple")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/suite/")
    _no_overflow(page, "suite")
    shot(page, "phone-recovery-next")
    page.get_by_role("link", name="Répondre à mes questions secrètes").click()
    page.wait_for_url("**/questions/")
    page.get_by_role("button", name="Valider mes réponses").click()  # errors: the widest state
    page.get_by_role("alert").wait_for()
    page.wait_for_load_state()
    _no_overflow(page, "questions")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"  # focus on the errors

    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_label("Identifiant").fill("claire.exemple")
    from cartable.conftest import PASSWORD

    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")
    for path in ("/mon-compte/", "/mon-compte/enfants/", "/mon-compte/securite/"):
        page.goto(live_server.url + path)
        _no_overflow(page, path)
        shot(page, "phone-" + path.strip("/").replace("/", "-"))
    assert watch.foreign == []
    assert errors == []
    context.close()


def _no_overflow(page, label: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{label}: the page is {overflow}px wider than the 360px screen"
