"""The provider in a real browser (Debian's chromium): the portal's login, consent, back to the service.

The site's CSP says `form-action 'self'`, and Chromium applies form-action to the redirects that
follow a form submission: the consent form's redirect to the service, and the login form's
redirect chain (login → authorize → service) once consent is remembered, must still arrive.
A small local HTTP server plays the service's callback.
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from cartable.conftest import PASSWORD
from cartable.lib.browser import require_chromium
from cartable.oidc.testing import authorize_params, make_client, pkce_pair

sync_api = require_chromium()
SHOTS = os.environ.get("CARTABLE_SCREENSHOTS", "")


@pytest.fixture
def callback_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            body = b"<!DOCTYPE html><title>Service</title><p>Service atteint</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def _authorize_url(live_server, app) -> str:
    _verifier, challenge = pkce_pair()
    return f"{live_server.url}/oidc/authorize/?{urlencode(authorize_params(app, challenge, 'openid profile'))}"


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_login_consent_and_back_to_the_service(browser, live_server, settings, parent, callback_server):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": f"{live_server.url}/oidc"}
    base, hits = callback_server
    app, _secret = make_client(redirect_uri=f"{base}/callback")
    context = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(_authorize_url(live_server, app))
    # The portal's steps: profile, level, then the login form; back to the authorization after.
    page.get_by_role("button", name="Élève ou parent").click()
    page.get_by_label("Collège").check()
    page.get_by_label("Oui (je me connecte depuis mon ordinateur)").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Identifiant").fill(parent.username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.wait_for_url("**/oidc/authorize/**")
    assert "Catalogue du CDI demande à utiliser votre compte Cartable" in page.inner_text("main")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    shot(page, "oidc-consent")
    page.get_by_role("button", name="Autoriser").click()
    page.wait_for_url(f"{base}/callback?**")
    assert [hit for hit in hits if hit.startswith("/callback?code=")]

    # Consent remembered; log out of the ENT, log in again: straight back to the service.
    page.goto(f"{live_server.url}/deconnexion/")
    page.get_by_role("button", name="Se déconnecter").last.click()
    page.goto(_authorize_url(live_server, app))
    page.wait_for_url("**/connexion/identifiant/**")
    page.get_by_label("Identifiant").fill(parent.username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/callback?**")
    callbacks = [hit for hit in hits if hit.startswith("/callback?")]
    assert len(callbacks) == 2 and callbacks[-1].startswith("/callback?code=")
    assert errors == []
    context.close()
