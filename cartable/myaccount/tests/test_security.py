"""Mon compte, Sécurité: password, e-mail address and secret questions, each behind the current password."""

import datetime

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import AuditEvent, SecretAnswer
from cartable.conftest import PASSWORD
from cartable.delivery.models import OutgoingEmail
from cartable.portal.tests.helpers import log_in, login
from cartable.recovery.tests.conftest import ADDRESS, NEW_PASSWORD

SECURITY = reverse("myaccount:security")
PASSWORD_URL = reverse("myaccount:password")
EMAIL_URL = reverse("myaccount:email")
QUESTIONS_URL = reverse("myaccount:questions")
CONFIRM = reverse("myaccount:email_confirm")
NEW_ADDRESS = "claire.nouvelle@exemple.org"


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def _change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirmation=None):
    return client.post(
        PASSWORD_URL,
        {"mdp-mot_de_passe_actuel": current, "mdp-nouveau_mot_de_passe": new,
         "mdp-confirmation": new if confirmation is None else confirmation},
    )


def _change_email(client, address=NEW_ADDRESS, current=PASSWORD):
    return client.post(EMAIL_URL, {"adresse-mot_de_passe_actuel": current, "adresse-nouvelle_adresse": address})


def _path(link: str) -> str:
    return link.split("127.0.0.1:8000", 1)[1]


@pytest.fixture
def email_parent(parent):
    parent.email, parent.email_verified = ADDRESS, True
    parent.save()
    return parent


# --- Password ------------------------------------------------------------------------------------


def test_security_page_has_the_three_forms(client, parent):
    client.force_login(parent)
    html = _text(client.get(SECURITY))
    assert "La saisie de votre mot de passe actuel est obligatoire pour toute modification." in html
    for form_id in ("id_mdp-mot_de_passe_actuel", "id_adresse-mot_de_passe_actuel", "id_questions-mot_de_passe_actuel"):
        assert f'<label for="{form_id}">Mot de passe actuel</label>' in html
    assert "data-password-policy" in html and html.count("<fieldset>") == 3


def test_password_change_needs_the_current_password(client, email_parent):
    client.force_login(email_parent)
    response = _change_password(client, current="faux")
    assert response.status_code == 200 and "Mot de passe actuel incorrect." in _text(response)
    email_parent.refresh_from_db()
    assert email_parent.check_password(PASSWORD)
    assert not OutgoingEmail.objects.exists()


def test_password_change_keeps_this_session_and_sends_a_notice(client, email_parent):
    log_in(client, email_parent.username)
    response = _change_password(client)
    assert response.status_code == 302 and response["Location"] == SECURITY
    assert "Votre mot de passe a été modifié." in _text(client.get(SECURITY))  # still logged in
    email_parent.refresh_from_db()
    assert email_parent.check_password(NEW_PASSWORD)
    notice = OutgoingEmail.objects.get(to=[ADDRESS])
    assert notice.subject == "Cartable : votre mot de passe a été modifié"
    assert "depuis « Mon compte »" in notice.text
    assert AuditEvent.objects.filter(action="password.changed", target_username="claire.exemple").exists()


def test_other_sessions_end_after_a_password_change(client, parent):
    from django.test import Client

    other = Client()
    other.force_login(parent)
    client.force_login(parent)
    _change_password(client)
    assert other.get(SECURITY).status_code == 302  # back to the login


def test_new_password_follows_the_policy(client, parent):
    client.force_login(parent)
    html = _text(_change_password(client, new="court"))
    assert "au moins 8 caractères" in html
    html = _text(_change_password(client, confirmation="autre-chose-2026!"))
    assert "Les deux mots de passe ne sont pas identiques." in html


def test_wrong_current_passwords_count_like_failed_logins(client, parent, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    client.force_login(parent)
    for _ in range(2):
        assert "Mot de passe actuel incorrect." in _text(_change_password(client, current="faux"))
    assert "Trop de tentatives. Réessayez dans 15 minutes." in _text(_change_password(client, current="faux"))
    # Locked: the right current password is refused, and so is the login.
    assert "Trop de tentatives." in _text(_change_password(client))
    parent.refresh_from_db()
    assert parent.check_password(PASSWORD)
    client.logout()
    assert login(client, parent.username).status_code == 429


# --- E-mail address ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_email_change_link_to_the_new_address_and_notice_to_the_old(client, email_parent, smtp_server):
    client.force_login(email_parent)
    response = _change_email(client)
    assert response.status_code == 302
    assert "Un lien de confirmation vient d'être envoyé à claire.nouvelle@exemple.org" in _text(client.get(SECURITY))

    notice = smtp_server.wait_for(ADDRESS)
    assert notice["Subject"].strip() == "Cartable : demande de changement d'adresse électronique"
    assert "c…@exemple.org" in smtp_server.text_of(notice)
    message = smtp_server.wait_for(NEW_ADDRESS)
    assert "valable 24 heures" in smtp_server.text_of(message)
    link = smtp_server.link_in(message, "/mon-compte/adresse/")
    email_parent.refresh_from_db()
    assert email_parent.email == ADDRESS  # nothing changes before the link

    token = link.rstrip("/").rsplit("/", 1)[1]
    moved = client.get(_path(link))
    assert moved["Location"] == CONFIRM and token not in moved["Location"]
    page = _text(client.get(CONFIRM))
    assert NEW_ADDRESS in page and token not in page
    assert client.post(CONFIRM)["Location"] == reverse("myaccount:profile")
    email_parent.refresh_from_db()
    assert (email_parent.email, email_parent.email_verified) == (NEW_ADDRESS, True)
    assert AuditEvent.objects.filter(action="email.changed").exists()
    # Single use.
    again = client.get(_path(link))
    assert again.status_code == 400 and "a déjà été utilisé" in _text(again)


def _link_from_outbox() -> str:
    text = OutgoingEmail.objects.filter(to=[NEW_ADDRESS]).latest("pk").text
    return _path(next(word for word in text.split() if "/mon-compte/adresse/" in word))


def test_email_change_needs_the_current_password(client, email_parent):
    client.force_login(email_parent)
    assert "Mot de passe actuel incorrect." in _text(_change_email(client, current="faux"))
    assert not OutgoingEmail.objects.exists()


def test_same_address_is_refused(client, email_parent):
    client.force_login(email_parent)
    assert "C'est déjà l'adresse de votre compte." in _text(_change_email(client, address=ADDRESS.upper()))


def test_another_accounts_link_is_refused(client, email_parent, teacher):
    client.force_login(email_parent)
    _change_email(client)
    path = _link_from_outbox()
    client.force_login(teacher)
    client.get(path)
    refused = client.get(CONFIRM)
    assert refused.status_code == 400
    assert "Ce lien concerne un autre compte" in _text(refused)
    assert "Recommencer" in _text(refused)
    email_parent.refresh_from_db()
    teacher.refresh_from_db()
    assert email_parent.email == ADDRESS and teacher.email == ""


def test_link_followed_before_logging_in(client, email_parent):
    client.force_login(email_parent)
    _change_email(client)
    path = _link_from_outbox()
    client.logout()
    moved = client.get(path)
    assert moved["Location"] == CONFIRM
    to_login = client.get(CONFIRM)
    assert to_login.status_code == 302 and "adresse/confirmer" in to_login["Location"]
    assert path.rstrip("/").rsplit("/", 1)[1] not in to_login["Location"]
    log_in(client, email_parent.username)
    assert client.post(CONFIRM).status_code == 302
    email_parent.refresh_from_db()
    assert email_parent.email == NEW_ADDRESS


def test_email_link_expiry_both_sides(client, email_parent):
    client.force_login(email_parent)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _change_email(client)
        path = _link_from_outbox()
    with time_machine.travel(start + datetime.timedelta(hours=24), tick=False):
        expired = client.get(path)
        assert expired.status_code == 400 and "a expiré" in _text(expired)
    with time_machine.travel(start + datetime.timedelta(hours=23, minutes=59, seconds=59), tick=False):
        client.force_login(email_parent)  # the first session has timed out by then
        client.get(path)
        assert client.post(CONFIRM).status_code == 302
    email_parent.refresh_from_db()
    assert email_parent.email == NEW_ADDRESS


def test_tampered_email_link(client, email_parent):
    client.force_login(email_parent)
    _change_email(client)
    path = _link_from_outbox()
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert "n'est pas valide" in _text(client.get(tampered))


# --- Secret questions ----------------------------------------------------------------------------


def _questions(client, q1="1", a1="Nounours", q2="8", a2="Saint-Étienne", current=PASSWORD):
    return client.post(
        QUESTIONS_URL,
        {"questions-mot_de_passe_actuel": current, "questions-question_1": q1, "questions-reponse_1": a1,
         "questions-question_2": q2, "questions-reponse_2": a2},
    )


def test_secret_questions_are_saved_hashed_and_normalised(client, parent):
    client.force_login(parent)
    assert _questions(client)["Location"] == SECURITY
    answers = {a.question: a.answer_hash for a in SecretAnswer.objects.filter(user=parent)}
    assert set(answers) == {1, 8}
    assert "Saint" not in answers[8] and check_password("saint-etienne", answers[8])
    assert "Quel était le nom de votre première peluche ?" in _text(client.get(SECURITY))
    # Changing them replaces both.
    _questions(client, q1="3", q2="13")
    assert set(SecretAnswer.objects.filter(user=parent).values_list("question", flat=True)) == {3, 13}


def test_secret_questions_must_differ_and_need_the_password(client, parent):
    client.force_login(parent)
    html = _text(_questions(client, q2="1"))
    assert "Choisissez deux questions différentes." in html
    assert "Mot de passe actuel incorrect." in _text(_questions(client, current="faux"))
    assert not SecretAnswer.objects.exists()


def test_questions_set_here_open_the_forgotten_password_flow(client, parent):
    client.force_login(parent)
    _questions(client, a1="Ours Brun")
    client.logout()
    client.post(reverse("recovery:password"), {"identifiant": "claire.exemple"})
    response = client.post(
        reverse("recovery:password_questions"), {"reponse_1": "ours  brun", "reponse_2": "SAINT ETIENNE".replace(" ", "-")}
    )
    assert response["Location"] == reverse("recovery:password_set")
