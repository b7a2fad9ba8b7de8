"""The e-mail path: one Confirmation, a link through a real SMTP server, and every way a link fails."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from cartable.accounts import tokens
from cartable.accounts.models import AuditEvent, CharterAcceptance, Confirmation, SecretAnswer
from cartable.accounts.services import issue_provisional_credentials
from cartable.activation import state

from .helpers import (
    NEW_PASSWORD,
    PUPIL_BIRTH_DATE,
    choose_password,
    link_from_outbox,
    location,
    text,
    until_password,
)

EMAIL = "marc.exemple@example.org"


def send_link(client, user, provisional, pupil, email=EMAIL):
    until_password(client, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE}, email=email)
    assert location(choose_password(client)) == reverse("activation:sent")


@pytest.mark.django_db(transaction=True)
def test_the_whole_flow_with_email_through_smtp(client, letter, pupil, charter, smtp_server):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    page = text(client.get(reverse("activation:sent")))
    assert "Consultez votre messagerie" in page and EMAIL in page

    # Nothing is written to the account before the link is followed.
    user.refresh_from_db()
    assert not user.is_activated and user.check_password(provisional) and user.email == ""
    [confirmation] = Confirmation.objects.filter(user=user, kind=Confirmation.Kind.ACTIVATION_EMAIL)
    assert set(confirmation.payload) == {"password_hash", "email", "charter_version", "issued_at"}
    assert confirmation.payload["email"] == EMAIL and confirmation.payload["charter_version"] == 1

    message = smtp_server.wait_for(EMAIL)
    assert message["Subject"] == "Cartable : terminez l'activation de votre compte"
    body = smtp_server.text_of(message)
    assert "Bonjour Marc EXEMPLE" in body and user.username in body
    assert "Ce n'est pas vous ?" in body and "secretariat@college-exemples.invalid" in body
    link = smtp_server.link_in(message, "/activation/confirmer/")
    assert link in smtp_server.html_of(message)

    # A mail scanner opening the link (GET) changes nothing; the token leaves the address bar.
    browser = Client()
    response = browser.get(urlsplit(link).path)
    assert location(response) == reverse("activation:confirm")
    page = text(browser.get(reverse("activation:confirm")))
    assert "Terminer l'activation" in page and user.username in page and EMAIL in page
    user.refresh_from_db()
    assert not user.is_activated

    assert location(browser.post(reverse("activation:confirm"))) == reverse("activation:done")
    assert "Compte activé !" in text(browser.get(reverse("activation:done")))
    user.refresh_from_db()
    assert user.is_activated and user.check_password(NEW_PASSWORD)
    assert user.email == EMAIL and user.email_verified
    assert not SecretAnswer.objects.filter(user=user).exists()
    assert CharterAcceptance.objects.filter(user=user, charter=charter).exists()
    line = AuditEvent.objects.get(action="account.activated", target_username=user.username)
    assert line.detail["method"] == "email"
    assert AuditEvent.objects.filter(action="activation.link_sent", target_username=user.username).exists()

    # Used twice: the TokenError's message.
    again = browser.get(urlsplit(link).path)
    assert again.status_code == 400 and "déjà été utilisé" in text(again)


def test_confirm_page_needs_a_post(client, letter, pupil):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    client.get(path)
    client.get(reverse("activation:confirm"))
    client.get(reverse("activation:confirm"))
    user.refresh_from_db()
    assert not user.is_activated


def test_the_email_and_the_secret_answers_replace_earlier_ones(client, letter, pupil):
    from cartable.accounts.models import SecretAnswer

    user, provisional = letter
    SecretAnswer.objects.create(user=user, question=2, answer_hash="x")
    send_link(client, user, provisional, pupil)
    client.get(link_from_outbox(EMAIL))
    client.post(reverse("activation:confirm"))
    assert not SecretAnswer.objects.filter(user=user).exists()


def test_tampered_link(client, letter, pupil):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = path.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    response = client.get(tampered)
    assert response.status_code == 400 and "n'est pas valide" in text(response)
    # The confirm page without a link in the session says the same.
    fresh = Client()
    assert "n'est pas valide" in text(fresh.post(reverse("activation:confirm")))


def test_a_link_of_another_kind_is_refused(client, letter):
    user, _provisional = letter
    token = tokens.issue_link(user, Confirmation.Kind.PASSWORD_RESET)
    response = client.get(reverse("activation:link", args=[token]))
    assert response.status_code == 400 and "n'est pas valide" in text(response)


def test_link_of_another_account(client, letter, pupil, parent):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    someone_else = Client()
    someone_else.force_login(parent)
    response = someone_else.get(path)
    assert response.status_code == 400 and "n'est pas valide" in text(response)
    # Nor can the link be carried into another logged-in session and posted there.
    client.get(path)
    client.force_login(parent)
    assert "n'est pas valide" in text(client.post(reverse("activation:confirm")))
    user.refresh_from_db()
    assert not user.is_activated


def test_link_works_until_it_expires(client, letter, pupil, settings):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    expires_at = Confirmation.objects.get(user=user).expires_at
    assert expires_at - Confirmation.objects.get(user=user).created_at == datetime.timedelta(
        seconds=settings.TOKEN_LIFETIMES_SECONDS["activation_email"]
    )
    with time_machine.travel(expires_at - datetime.timedelta(seconds=1), tick=False):
        client.get(path)
        assert location(client.post(reverse("activation:confirm"))) == reverse("activation:done")
    user.refresh_from_db()
    assert user.is_activated


def test_expired_link(client, letter, pupil):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    expires_at = Confirmation.objects.get(user=user).expires_at
    with time_machine.travel(expires_at, tick=False):
        assert "a expiré" in text(Client().get(path))
    # Opened just before the end, confirmed just after: refused too.
    with time_machine.travel(expires_at - datetime.timedelta(minutes=1), tick=False):
        assert location(client.get(path)) == reverse("activation:confirm")
    with time_machine.travel(expires_at, tick=False):
        response = client.post(reverse("activation:confirm"))
    assert response.status_code == 400 and "a expiré" in text(response)
    user.refresh_from_db()
    assert not user.is_activated


def test_a_new_link_voids_the_previous_one(client, letter, pupil):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    first = link_from_outbox(EMAIL)
    send_link(client, user, provisional, pupil, email="autre@example.org")
    second = link_from_outbox("autre@example.org")
    assert "déjà été utilisé" in text(client.get(first))
    client.get(second)
    client.post(reverse("activation:confirm"))
    user.refresh_from_db()
    assert user.email == "autre@example.org"


def test_a_staff_reset_after_the_email_voids_the_link(client, letter, pupil):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    issue_provisional_credentials([user], actor=None)
    client.get(path)
    response = client.post(reverse("activation:confirm"))
    assert response.status_code == 409 and "nouveaux identifiants provisoires" in text(response)
    user.refresh_from_db()
    assert not user.is_activated
    assert state.LINK_KEY not in client.session


def test_a_link_for_an_account_activated_meanwhile(client, letter, pupil):
    user, provisional = letter
    send_link(client, user, provisional, pupil)
    path = link_from_outbox(EMAIL)
    other = Client()
    until_password(other, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE})
    choose_password(other, "Autre-Mot-de-passe-2027")  # activated without e-mail in another browser
    client.get(path)
    response = client.post(reverse("activation:confirm"))
    assert response.status_code == 409 and "vient d'être activé" in text(response)
    user.refresh_from_db()
    assert user.check_password("Autre-Mot-de-passe-2027") and user.email == ""
