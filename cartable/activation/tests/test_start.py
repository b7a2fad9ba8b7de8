"""Starting the activation: « Activer mon compte », « Mon compte a été réinitialisé », the login."""

from __future__ import annotations

import datetime

import time_machine
from django.urls import reverse

from cartable.accounts.services import issue_provisional_credentials
from cartable.activation import state
from cartable.conftest import PASSWORD
from cartable.portal.tests.helpers import choose, login

from .helpers import NEW_PASSWORD, accept_charter, choose_password, location, start, until_password

GENERIC = "Identifiant ou mot de passe incorrect."
DISABLED = "Votre compte est désactivé : contactez votre établissement."


def test_start_page_is_accessible(client, db):
    html = client.get(reverse("portal:activate")).content.decode()
    assert "<h1>Activer mon compte</h1>" in html
    assert '<label for="id_identifiant">Identifiant</label>' in html
    assert '<label for="id_mot_de_passe">Mot de passe provisoire</label>' in html
    assert 'aria-describedby="identifiant-hint"' in html and 'autocomplete="current-password"' in html
    html = client.get(reverse("activation:reset")).content.decode()
    assert "<h1>Mon compte a été réinitialisé</h1>" in html and "nouvelle lettre" in html


def test_identifier_from_the_query_string_is_filled_in(client, db):
    html = client.get(reverse("portal:activate") + "?identifiant=marc.exemple").content.decode()
    assert 'value="marc.exemple"' in html


def test_wrong_password_and_unknown_identifier_get_the_generic_message(client, letter):
    user, _provisional = letter
    for username in (user.username, "personne.inconnue"):
        response = start(client, username, "pas-le-bon")
        assert response.status_code == 200
        html = response.content.decode()
        assert GENERIC in html and 'aria-describedby="identifiant-hint start-error"' in html
    assert state.SESSION_KEY not in client.session


def test_start_is_throttled_like_the_login(client, letter, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 2
    user, provisional = letter
    start(client, user.username, "faux-1")
    response = start(client, user.username, "faux-2")
    assert response.status_code == 429 and "Trop de tentatives" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    # Blocked even with the right password, and the login page shares the counter.
    assert start(client, user.username, provisional).status_code == 429
    assert login(client, user.username, provisional).status_code == 429


def test_an_activated_account_is_sent_to_the_login(client, parent):
    response = start(client, parent.username, PASSWORD)
    html = response.content.decode()
    assert "Ce compte est déjà activé" in html and "_auth_user_id" not in client.session
    assert f"{reverse('portal:login')}?identifiant={parent.username}" in html


def test_reset_wording_follows_the_flow(client, letter):
    user, provisional = letter
    assert location(start(client, user.username, provisional, reset=True)) == reverse("activation:charter")
    html = client.get(reverse("activation:charter")).content.decode()
    assert "Réactivation de votre compte" in html


def test_logged_in_user_is_sent_home(client, parent):
    client.force_login(parent)
    assert location(client.get(reverse("portal:activate"))) == reverse("portal:home")


# --- the activation deadline (provisional credentials), both sides ------------------------------


def test_provisional_credentials_work_until_the_deadline_included(client, letter):
    user, provisional = letter
    with time_machine.travel(user.activation_deadline, tick=False):
        assert location(start(client, user.username, provisional)) == reverse("activation:charter")


def test_provisional_credentials_past_the_deadline_get_the_deactivated_message(client, letter):
    user, provisional = letter
    with time_machine.travel(user.activation_deadline + datetime.timedelta(seconds=1), tick=False):
        html = start(client, user.username, provisional).content.decode()
        assert DISABLED in html and "secretariat@college-exemples.invalid" in html
        choose(client)
        assert DISABLED in login(client, user.username, provisional).content.decode()
    assert state.SESSION_KEY not in client.session


def test_activation_finished_after_the_deadline_is_refused(client, letter, pupil):
    user, provisional = letter
    with time_machine.travel(user.activation_deadline - datetime.timedelta(minutes=30), tick=False):
        until_password(client, user, provisional, children={pupil.person.pk: "14/03/2015"})
    with time_machine.travel(user.activation_deadline + datetime.timedelta(minutes=1), tick=False):
        response = choose_password(client)
    assert response.status_code == 409
    assert DISABLED in response.content.decode()
    user.refresh_from_db()
    assert not user.is_activated


def test_a_newer_letter_voids_the_activation_in_progress(client, letter):
    user, provisional = letter
    start(client, user.username, provisional)
    issue_provisional_credentials([user], actor=None)  # the secretary prints again
    response = accept_charter(client)
    assert response.status_code == 409
    assert "nouveaux identifiants provisoires" in response.content.decode()


# --- after a staff reset, the same way again ----------------------------------------------------


def test_reset_account_activates_again(client, parent, charter, pupil):
    [(user, provisional)] = issue_provisional_credentials([parent], actor=None, reset_activated=True)
    assert not user.is_activated
    choose(client)
    assert login(client, user.username, PASSWORD).status_code == 200  # the old password is gone
    assert location(login(client, user.username, provisional)) == reverse("activation:charter")
    until_password(client, user, provisional, children={pupil.person.pk: "14/03/2015"})
    assert location(choose_password(client)) == reverse("activation:done")
    user.refresh_from_db()
    assert user.is_activated and user.check_password(NEW_PASSWORD)
