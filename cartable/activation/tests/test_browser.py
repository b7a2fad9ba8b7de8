"""A parent's whole activation in a real browser on a phone (Debian's chromium via Playwright).

Letter's credentials (issued in the test) → portal → login → charter → child's birth date →
e-mail typed twice → new password with the live checks → the link from the aiosmtpd message →
« Compte activé ! » → « Accéder à l'ENT » → login with the new password → home page. At 360×740,
every page without horizontal overflow, no request leaving the live server, no script error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from cartable.accounts.models import User
from cartable.portal.tests.test_browser import (
    assert_no_horizontal_overflow,
    open_page,
    shot,
    sync_api,
)

from .helpers import NEW_PASSWORD

EMAIL = "marc.exemple@example.org"


@pytest.mark.django_db(transaction=True)
def test_parent_activates_on_a_phone(browser, live_server, letter, pupil, smtp_server):  # noqa: F811
    user, provisional = letter
    context, page, requests, errors = open_page(
        browser, live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )

    def check(name: str) -> None:
        assert_no_horizontal_overflow(page, name)
        shot(page, f"activation-{name}")

    page.goto(live_server.url + "/")
    page.get_by_role("main").get_by_role("link", name="Se connecter").click()
    page.get_by_role("button", name="Élève ou parent").click()
    page.get_by_label("Collège").check()
    page.get_by_label("Oui (je me connecte depuis mon ordinateur)").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/connexion/identifiant/")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe", exact=True).fill(provisional)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url("**/activation/charte/")
    check("1-charter")
    assert "Étape 1 sur 5" in page.inner_text("main")
    page.get_by_role("button", name="Continuer").click()  # not ticked: refused, with the reason
    assert "Cochez la case" in page.get_by_role("main").inner_text()
    page.get_by_label("J'ai lu et j'accepte la charte d'utilisation de l'ENT.").check()
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url("**/activation/enfants/")
    check("2-birth-dates")
    page.get_by_label("Date de naissance de Léa").fill("14/03/2015")
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url("**/activation/adresse/")
    check("3-email")
    assert "Informatique et Libertés" in page.inner_text("main")
    page.get_by_label("Votre adresse électronique personnelle").fill(EMAIL)
    page.get_by_label("Confirmation de l'adresse électronique").fill(EMAIL)
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url("**/activation/mot-de-passe/")
    new_password = page.get_by_label("Nouveau mot de passe")
    confirmation = page.get_by_label("Confirmation du mot de passe")
    new_password.press_sequentially("court")
    checks = page.locator("#password-checks")
    assert checks.is_visible()  # shown by password-check.js
    assert "ko" in (checks.locator('[data-check="length"]').get_attribute("class") or "")
    new_password.fill(NEW_PASSWORD)
    confirmation.fill(NEW_PASSWORD)
    confirmation.dispatch_event("input")
    for name in ("length", "strength", "match"):
        assert "ok" in (checks.locator(f'[data-check="{name}"]').get_attribute("class") or ""), name
    # The summary is announced (aria-live) once typing pauses.
    sync_api.expect(page.locator("#password-status")).to_have_text("Règles respectées : 3 sur 3.")
    check("4-password")
    page.get_by_role("button", name="Recevoir le lien d'activation").click()

    page.wait_for_url("**/activation/courriel-envoye/")
    check("5-sent")
    assert EMAIL in page.inner_text("main")
    message = smtp_server.wait_for(EMAIL)
    link = smtp_server.link_in(message, "/activation/confirmer/")
    page.goto(live_server.url + urlsplit(link).path)

    page.wait_for_url("**/activation/confirmer/")
    check("6-confirm")
    assert not User.objects.get(pk=user.pk).is_activated  # opening the link changed nothing
    page.get_by_role("button", name="Activer mon compte").click()

    page.wait_for_url("**/activation/compte-active/")
    check("7-done")
    assert "Compte activé !" in page.inner_text("main")
    page.get_by_role("link", name="Accéder à l'ENT").click()

    page.wait_for_url("**/connexion/identifiant/**")
    assert page.get_by_label("Identifiant").input_value() == user.username
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")
    check("8-home")
    main = page.get_by_role("main").inner_text()
    assert "Bonjour Marc EXEMPLE" in main and "Léa EXEMPLE" in main
    assert "pas encore activé" not in main

    user.refresh_from_db()
    assert user.is_activated and user.email == EMAIL and user.email_verified
    assert requests.foreign == []
    assert errors == []
    context.close()
