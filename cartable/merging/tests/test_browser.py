"""« Regrouper mes comptes » on a phone, in a real browser (Debian's chromium driven by Playwright).

Login → Mon compte → « Regrouper mes comptes » → a wrong password (the error summary is
announced and focused) → the right one → both accounts' children → the current password →
« utilisez désormais l'identifiant … » → Enfants lists both children. At 360×740, without
horizontal overflow, script error, CSP violation or request leaving the server
(CARTABLE_SCREENSHOTS=dir keeps a screenshot of each page). Then signing in
with the closed identifier says which one to use.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cartable.conftest import PASSWORD
from cartable.lib.browser import require_chromium

sync_api = require_chromium()
SHOTS = os.environ.get("CARTABLE_SCREENSHOTS", "")  # a directory: keep a screenshot of each page


def _no_overflow(page, label: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"merging-{label.replace(' ', '-')}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{label}: the page is {overflow}px wider than the 360px screen"


@pytest.mark.django_db(transaction=True)
def test_parent_merges_two_accounts_on_a_phone(browser, live_server, parent, second_account):
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []

    def watch(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" != live_server.url:
            foreign.append(request.url)

    page.on("request", watch)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_label("Identifiant").fill("claire.exemple")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")

    page.goto(live_server.url + "/mon-compte/")
    page.get_by_role("link", name="Regrouper mes comptes").click()
    page.wait_for_url("**/regroupement/")
    _no_overflow(page, "start")

    page.get_by_label("Identifiant de l'autre compte").fill("claire.exemple2")
    page.get_by_label("Mot de passe de l'autre compte").fill("Pas-le-bon-2026")
    page.get_by_role("button", name="Continuer").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Identifiant ou mot de passe incorrect." in alert.inner_text()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"  # focus on the errors
    _no_overflow(page, "start with an error")

    page.get_by_label("Mot de passe de l'autre compte").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/regroupement/confirmer/")
    main = page.get_by_role("main").inner_text()
    assert "Compte conservé : claire.exemple" in main and "Léa EXEMPLE" in main and "Hugo EXEMPLE" in main
    _no_overflow(page, "confirm")

    page.get_by_label("Mot de passe actuel").fill(PASSWORD)
    page.get_by_role("button", name="Regrouper mes comptes").click()
    page.wait_for_url("**/regroupement/termine/")
    assert "Vos comptes sont regroupés : utilisez désormais l'identifiant claire.exemple." in page.get_by_role("main").inner_text()
    _no_overflow(page, "done")

    page.get_by_role("link", name="Voir mes enfants dans « Mon compte »").click()
    page.wait_for_url("**/mon-compte/enfants/")
    main = page.get_by_role("main").inner_text()
    assert "Léa EXEMPLE" in main and "Hugo EXEMPLE" in main

    # Signing in with the closed identifier and its right password says which one to use now.
    page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()
    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_label("Identifiant").fill("claire.exemple2")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    assert "connectez-vous désormais avec l'identifiant claire.exemple" in page.get_by_role("main").inner_text()

    assert foreign == []
    assert errors == []
    context.close()
