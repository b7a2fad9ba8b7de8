"""The whole self-registration in a real browser on a phone (Debian's chromium via Playwright).

Login page → « Je n'ai pas de compte » → names and mobile → the code read from the SMS outbox →
the child's birth date → the charter → the identifier shown, a new password with the live
checks → « Compte activé ! » → « Se connecter » → home. At 360×740, every page without
horizontal overflow, no request leaving the live server, no script error or CSP violation.
"""

from __future__ import annotations

import pytest

from cartable.delivery.testing import last_sms_code
from cartable.portal.tests.test_browser import assert_no_horizontal_overflow, open_page, shot, sync_api

from .conftest import E164, MOBILE, NEW_PASSWORD


@pytest.mark.django_db(transaction=True)
def test_parent_registers_on_a_phone_then_logs_in(browser, live_server, newcomer, pupil):  # noqa: F811
    context, page, requests, errors = open_page(
        browser, live_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )

    def check(name: str) -> None:
        assert_no_horizontal_overflow(page, name)
        shot(page, f"registration-{name}")

    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_role("link", name="Je n'ai pas de compte").click()
    page.wait_for_url("**/inscription/")
    check("1-start")
    page.get_by_label("Nom", exact=True).fill("exemple")
    page.get_by_label("Prénom").fill("claire")
    page.get_by_label("Numéro de téléphone portable").fill(MOBILE.replace(" ", ""))
    page.get_by_role("button", name="Recevoir un code par SMS").click()

    page.wait_for_url("**/inscription/code/")
    check("2-code")
    assert "un code vous a été envoyé par SMS" in page.inner_text("main")
    page.get_by_label("Code reçu par SMS").fill(last_sms_code(E164))
    page.get_by_role("button", name="Valider le code").click()

    page.wait_for_url("**/inscription/enfants/")
    check("3-children")
    assert "Léa EXEMPLE" in page.inner_text("main")
    page.get_by_label("Date de naissance de Léa").fill("14/03/2015")
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url("**/inscription/charte/")
    check("4-charter")
    page.get_by_label("J'ai lu et j'accepte la charte d'utilisation de l'ENT.").check()
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url("**/inscription/mot-de-passe/")
    assert "claire.exemple" in page.inner_text("main")
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
    sync_api.expect(page.locator("#password-status")).to_have_text("Règles respectées : 3 sur 3.")
    check("5-password")
    page.get_by_role("button", name="Activer mon compte").click()

    page.wait_for_url("**/inscription/compte-active/")
    check("6-done")
    main = page.inner_text("main")
    assert "Compte activé !" in main and "claire.exemple" in main
    page.get_by_role("link", name="Se connecter").last.click()

    page.wait_for_url("**/connexion/identifiant/**")
    assert page.get_by_label("Identifiant").input_value() == "claire.exemple"
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")
    check("7-home")
    assert "Léa EXEMPLE" in page.get_by_role("main").inner_text()

    assert requests.foreign == []
    assert errors == []
    context.close()
