"""The activation flow without e-mail (secret questions), step by step, and its rules."""

from __future__ import annotations

import datetime

import time_machine
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from cartable.accounts.models import AuditEvent, CharterAcceptance, SecretAnswer, User
from cartable.activation import state

from .helpers import (
    NEW_PASSWORD,
    PUPIL_BIRTH_DATE,
    accept_charter,
    answer_questions,
    choose_password,
    decline_email,
    give_email,
    location,
    start,
    until_password,
)


def test_the_whole_flow_without_email(client, letter, pupil, charter):
    user, provisional = letter
    assert location(start(client, user.username, provisional)) == reverse("activation:charter")
    assert "_auth_user_id" not in client.session  # the provisional password never logs in

    page = client.get(reverse("activation:charter")).content.decode()
    assert "Étape 1 sur 5" in page and "Respectez les autres." in page and "<h3>Règles</h3>" in page
    assert "<li>Ne prêtez pas votre mot de passe.</li>" in page
    assert location(accept_charter(client)) == reverse("activation:birth_dates")

    page = client.get(reverse("activation:birth_dates")).content.decode()
    assert "Date de naissance de Léa" in page
    assert location(client.post(reverse("activation:birth_dates"), {f"enfant_{pupil.person.pk}": PUPIL_BIRTH_DATE})) == reverse(
        "activation:email"
    )

    page = client.get(reverse("activation:email")).content.decode()
    assert "Informatique et Libertés" in page and "rectification" in page and "académie" in page
    assert "Je ne souhaite pas indiquer d" in page
    assert location(decline_email(client)) == reverse("activation:questions")
    assert location(answer_questions(client, 1, "  Nounours ", 13, "Le Grand BLEU")) == reverse("activation:password")

    page = client.get(reverse("activation:password")).content.decode()
    assert "Étape 5 sur 5" in page and "Au moins 8 caractères" in page
    assert location(choose_password(client)) == reverse("activation:done")

    done = client.get(reverse("activation:done")).content.decode()
    assert "Compte activé !" in done and "Accéder à l" in done
    assert f"{reverse('portal:login')}?identifiant={user.username}" in done

    user.refresh_from_db()
    assert user.is_activated and user.check_password(NEW_PASSWORD) and not user.check_password(provisional)
    assert user.email == "" and not user.email_verified
    answers = {a.question: a.answer_hash for a in SecretAnswer.objects.filter(user=user)}
    assert set(answers) == {1, 13}
    assert check_password("nounours", answers[1]) and check_password("le grand bleu", answers[13])
    assert CharterAcceptance.objects.filter(user=user, charter=charter).exists()
    line = AuditEvent.objects.get(action="account.activated", target_username=user.username)
    assert line.detail == {"method": "secret_questions", "charter": 1} and line.etablissement_uai == "0999999X"
    assert state.SESSION_KEY not in client.session
    assert "_auth_user_id" not in client.session


def test_later_login_lands_on_the_home_page(client, letter, pupil):
    from cartable.portal.tests.helpers import choose, login

    user, provisional = letter
    until_password(client, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE})
    choose_password(client)
    choose(client)
    assert "Identifiant ou mot de passe incorrect." in login(client, user.username, provisional).content.decode()
    assert location(login(client, user.username, NEW_PASSWORD)) == reverse("portal:home")


def test_a_login_with_the_provisional_password_starts_the_activation(client, letter):
    from cartable.portal.tests.helpers import choose, login

    user, provisional = letter
    choose(client)
    key = client.session.session_key
    assert location(login(client, user.username, provisional)) == reverse("activation:charter")
    assert "_auth_user_id" not in client.session
    assert client.session.session_key != key  # rotated: a planted session cannot finish it
    assert client.session[state.SESSION_KEY]["user_id"] == user.pk
    assert client.session.get_expire_at_browser_close()


def test_steps_cannot_be_skipped(client, letter, pupil):
    user, provisional = letter
    start(client, user.username, provisional)
    for name in ("activation:birth_dates", "activation:email", "activation:questions", "activation:password"):
        assert location(client.get(reverse(name))) == reverse("activation:charter")
    assert location(choose_password(client)) == reverse("activation:charter")
    user.refresh_from_db()
    assert not user.is_activated


def test_no_step_without_a_pending_activation(client, db):
    for name in ("activation:charter", "activation:email", "activation:password"):
        response = client.get(reverse(name))
        assert response.status_code == 400
        assert "Aucune activation n" in response.content.decode()


def test_a_pending_activation_expires(client, letter):
    user, provisional = letter
    start(client, user.username, provisional)
    started = datetime.datetime.fromtimestamp(client.session[state.SESSION_KEY]["started_at"], tz=datetime.UTC)
    with time_machine.travel(started + datetime.timedelta(seconds=3599), tick=False):
        assert client.get(reverse("activation:charter")).status_code == 200
    with time_machine.travel(started + datetime.timedelta(seconds=3601), tick=False):
        assert "Aucune activation" in client.get(reverse("activation:charter")).content.decode()


def test_earlier_steps_can_be_seen_again(client, letter, pupil):
    user, provisional = letter
    until_password(client, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE})
    page = client.get(reverse("activation:email")).content.decode()
    assert "Étape précédente" in page
    # Giving an address after all replaces the questions (and drops their answers).
    assert location(give_email(client, "marc@example.org")) == reverse("activation:password")
    assert client.session[state.SESSION_KEY]["answers"] == []


def test_charter_must_be_ticked(client, letter):
    user, provisional = letter
    start(client, user.username, provisional)
    response = client.post(reverse("activation:charter"), {})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cochez la case pour accepter la charte" in html
    assert 'aria-describedby="accepte-error"' in html and 'aria-invalid="true"' in html


def test_pupil_has_no_birth_date_step(client, pupil_letter):
    user, provisional = pupil_letter
    start(client, user.username, provisional)
    assert location(accept_charter(client)) == reverse("activation:email")
    assert "Étape 2 sur 4" in client.get(reverse("activation:email")).content.decode()


def test_without_a_published_charter_the_step_is_skipped(client, pupil_letter, charter):
    from cartable.accounts.models import Charter

    Charter.objects.all().delete()
    user, provisional = pupil_letter
    assert location(start(client, user.username, provisional)) == reverse("activation:email")
    decline_email(client)
    answer_questions(client)
    assert location(choose_password(client)) == reverse("activation:done")
    assert User.objects.get(pk=user.pk).is_activated


def test_same_question_twice_is_refused(client, pupil_letter):
    user, provisional = pupil_letter
    start(client, user.username, provisional)
    accept_charter(client)
    decline_email(client)
    response = answer_questions(client, 4, "Paul", 4, "Pierre")
    assert response.status_code == 200
    assert "Choisissez deux questions différentes." in response.content.decode()
    response = answer_questions(client, 4, " ", 5, "x")
    html = response.content.decode()
    assert "Saisissez votre réponse." in html or "trop courte" in html
    assert 'aria-describedby="reponse2-error"' in html


def test_email_is_typed_twice_and_checked(client, pupil_letter):
    user, provisional = pupil_letter
    start(client, user.username, provisional)
    accept_charter(client)
    html = give_email(client, "nina@example.org", "nina@exemple.org").content.decode()
    assert "Les deux adresses ne sont pas identiques." in html
    html = give_email(client, "pas-une-adresse").content.decode()
    assert "Saisissez une adresse électronique valide" in html
    html = give_email(client, "").content.decode()
    assert "Saisissez votre adresse électronique." in html
    assert location(give_email(client, "Nina@Example.ORG", "nina@example.org")) == reverse("activation:password")
    assert client.session[state.SESSION_KEY]["email"] == "Nina@example.org"


def test_email_required_by_the_deployment(client, pupil_letter, settings):
    settings.ACTIVATION_EMAIL_REQUIRED = True
    user, provisional = pupil_letter
    start(client, user.username, provisional)
    accept_charter(client)
    page = client.get(reverse("activation:email")).content.decode()
    assert "Je ne souhaite pas" not in page
    response = decline_email(client)
    assert response.status_code == 200
    assert "Saisissez votre adresse électronique." in response.content.decode()
