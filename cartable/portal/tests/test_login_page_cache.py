"""The plain login page is rendered once per profile choice and served with each request's token."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from cartable.conftest import PASSWORD
from cartable.portal import views
from cartable.portal.tests.helpers import choose

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _page(client: Client, **params) -> str:
    response = client.get(reverse("portal:login"), params)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    return response.content.decode()


def test_each_visitor_gets_a_token_that_works_with_their_own_cookie(db, parent):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    page1, page2 = _page(first), _page(second)
    token1, token2 = TOKEN.search(page1).group(1), TOKEN.search(page2).group(1)
    assert token1 != token2 and "csrf-token-slot" not in page1
    assert TOKEN.sub("", page1) == TOKEN.sub("", page2)  # the same page otherwise
    assert None in views._LOGIN_PAGES  # rendered once, for "no profile chosen"
    # Another visitor's token is refused with one's own cookie; one's own is accepted.
    form = {"identifiant": parent.username, "mot_de_passe": PASSWORD}
    assert first.post(reverse("portal:login"), {**form, "csrfmiddlewaretoken": token2}).status_code == 403
    response = first.post(reverse("portal:login"), {**form, "csrfmiddlewaretoken": token1})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")


def test_the_page_follows_the_profile_choice(db):
    client = Client()
    assert "Aucun profil choisi." in _page(client)
    choose(client, profile="eleve_parent", level="lycee")
    page = _page(client)
    assert "Aucun profil choisi." not in page and "Lycée" in page
    choose(client, profile="eleve_parent", level="college", remember=True)
    page = _page(client)
    assert "Collège" in page and "Conserver l" in page  # « Conserver l'identification » on a remembered choice


def test_pages_with_a_typed_identifier_or_a_message_are_not_shared(db):
    _page(Client())
    cached = dict(views._LOGIN_PAGES)
    page = _page(Client(), identifiant="claire.exemple")
    assert 'value="claire.exemple"' in page
    assert views._LOGIN_PAGES == cached  # rendered for this visitor only
    assert 'value="claire.exemple"' not in _page(Client())


def test_changed_settings_are_seen(db, settings):
    _page(Client())
    settings.PUBLIC_SESSION_IDLE_SECONDS = 7 * 60
    assert "après 7 minutes d'inactivité" in _page(Client())
