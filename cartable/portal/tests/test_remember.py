"""« Conserver l'identification »: offered only on a remembered (own computer) choice."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.urls import reverse

from cartable.portal.services import LAST_SEEN_KEY
from cartable.portal.tests.helpers import choose, login


def test_not_offered_on_a_public_choice(client, db):
    choose(client, remember=False)
    html = client.get(reverse("portal:login")).content.decode()
    assert "Conserver l" not in html and 'name="conserver"' not in html


def test_not_offered_without_a_choice(client, db):
    assert 'name="conserver"' not in client.get(reverse("portal:login")).content.decode()


def test_offered_on_a_remembered_choice(client, db, settings):
    settings.REMEMBER_ME_DAYS = 30
    choose(client, remember=True)
    html = client.get(reverse("portal:login")).content.decode()
    assert '<input type="checkbox" name="conserver" id="id_conserver"' in html
    assert '<label for="id_conserver">Conserver l&#x27;identification</label>' in html or (
        '<label for="id_conserver">Conserver l\'identification</label>' in html
    )
    assert 'aria-describedby="conserver-hint"' in html and "30 jours" in html


def test_checked_keeps_the_session_remember_me_days(client, parent, settings):
    settings.REMEMBER_ME_DAYS = 30
    choose(client, remember=True)
    assert login(client, parent.username, data={"conserver": "on"}).status_code == 302
    assert client.session.get_expiry_age() == 30 * 86400
    assert not client.session.get_expire_at_browser_close()
    assert LAST_SEEN_KEY not in client.session


def test_unchecked_keeps_the_private_session_length(client, parent):
    choose(client, remember=True)
    login(client, parent.username)
    assert client.session.get_expiry_age() == django_settings.PRIVATE_SESSION_SECONDS


def test_ignored_when_posted_on_a_public_choice(client, parent):
    choose(client, remember=False)
    login(client, parent.username, data={"conserver": "on"})
    assert client.session.get_expire_at_browser_close()
    assert LAST_SEEN_KEY in client.session  # still the public computer's idle logout


def test_login_page_links_to_activation_and_reset(client, db):
    html = client.get(reverse("portal:login")).content.decode()
    assert reverse("portal:activate") in html and "Activer mon compte" in html
    assert reverse("activation:reset") in html and "Mon compte a été réinitialisé" in html
