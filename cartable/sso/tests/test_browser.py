"""A logged-in parent clicks a CAS tile and lands on the service, which got a valid ticket."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs, urlsplit

import pytest
from cas import CASClientV3

from cartable.conftest import PASSWORD
from cartable.lib.browser import require_chromium

from .conftest import make_service

sync_api = require_chromium()


@pytest.mark.django_db(transaction=True)
def test_parent_opens_a_cas_tile(browser, live_server, receiver, etab, parent):
    service = make_service(
        etab,
        name="Pronote",
        description="Notes et cahier de textes",
        access_url=f"{receiver.url}/app/",
        service_patterns=f"{receiver.url}/app/",
        released_attributes=["uid", "enfants"],
    )
    client = CASClientV3(service_url=service.access_url, server_url=live_server.url + "/cas/")

    def service_page(path: str) -> str:
        # The partner service validates the ticket it received, as a real one would.
        ticket = parse_qs(urlsplit(path).query).get("ticket", [""])[0]
        user, attributes, _pgtiou = client.verify_ticket(ticket)
        if user is None:
            return "<title>Refusé</title><h1>Ticket refusé</h1>"
        return f"<title>Service</title><h1>Bienvenue {escape(user)}</h1><p>Enfants : {escape(str(attributes.get('enfants')))}</p>"

    receiver.on_get = service_page
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.url + "/connexion/identifiant/")
    page.get_by_label("Identifiant").fill(parent.username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accueil/")

    page.get_by_role("link", name="Pronote").click()
    page.wait_for_url(f"{receiver.url}/app/?ticket=ST-*")
    assert page.locator("h1").inner_text() == "Bienvenue claire.exemple"
    assert "lea.exemple" in page.inner_text("body")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_refusal_and_renew_pages_on_a_phone(browser, live_server, etab, pupil):
    from urllib.parse import urlencode

    make_service(etab)
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors: list[str] = []
    # A CSP violation or a script error would show here (the 403 and 400 statuses are meant).
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" and "status of 40" not in msg.text else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(live_server.url + "/cas/login?" + urlencode({"service": "https://inconnu.exemple.fr/"}))
    assert page.get_by_role("heading", level=1).inner_text() == "Accès au service refusé"
    assert "n'est pas enregistré auprès de l'ENT" in page.get_by_role("alert").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0

    page.goto(live_server.url + "/cas/login?" + urlencode({"service": "https://pronote.exemple.fr/pronote/eleve.html", "renew": "true"}))
    page.get_by_label("Identifiant").fill(pupil.username)
    page.get_by_label("Mot de passe", exact=True).fill("faux")
    page.get_by_role("button", name="Continuer").click()
    assert "Identifiant ou mot de passe incorrect" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Mot de passe", exact=True).get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert errors == []
    context.close()
