"""Forgotten password, account with a verified address: a single-use link valid one hour."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cartable.accounts import tokens
from cartable.accounts.models import AuditEvent, Confirmation
from cartable.conftest import PASSWORD
from cartable.delivery.models import OutgoingEmail, OutgoingSMS
from cartable.portal.tests.helpers import login
from cartable.recovery import views

from .conftest import ADDRESS, NEW_PASSWORD, page

Kind = Confirmation.Kind
START = reverse("recovery:password")
NEXT = reverse("recovery:password_next")
SET = reverse("recovery:password_set")


def _link_from_outbox() -> str:
    text = OutgoingEmail.objects.filter(subject="Cartable : choisir un nouveau mot de passe").latest("pk").text
    return next(word for word in text.split() if "/recuperation/mot-de-passe/lien/" in word)


def _path(link: str) -> str:
    return link.split("127.0.0.1:8000", 1)[1]


def _set_password(client, password: str = NEW_PASSWORD, confirmation: str | None = None):
    data = {"nouveau_mot_de_passe": password, "confirmation": password if confirmation is None else confirmation}
    return client.post(SET, data)


def test_login_page_links_here_and_identifier_is_prefilled(client, db):
    assert client.get(reverse("portal:forgot_password")).status_code == 200
    html = client.get(START + "?identifiant=claire.exemple").content.decode()
    assert 'value="claire.exemple"' in html and 'autocomplete="username"' in html


def test_known_and_unknown_identifiers_get_the_same_pages(client, email_parent, django_user_model):
    known = client.post(START, {"identifiant": "claire.exemple"})
    unknown = client.post(START, {"identifiant": "personne.inconnue"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == NEXT
    client.post(START, {"identifiant": "claire.exemple"})
    known_page = client.get(NEXT)
    client.post(START, {"identifiant": "personne.inconnue"})
    unknown_page = client.get(NEXT)
    assert known_page.status_code == unknown_page.status_code == 200
    assert page(known_page, "claire.exemple") == page(unknown_page, "personne.inconnue")
    assert "Vérifiez vos courriels ou vos SMS" in known_page.content.decode()
    # Only the known account got a link, and nobody an SMS.
    assert OutgoingEmail.objects.filter(to=[ADDRESS]).count() == 2
    assert OutgoingEmail.objects.count() == 2 and not OutgoingSMS.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_link_by_smtp_then_new_password_then_login(client, email_parent, smtp_server):
    client.post(START, {"identifiant": " Claire.Exemple "})
    message = smtp_server.wait_for(ADDRESS)
    assert message["Subject"] == "Cartable : choisir un nouveau mot de passe"
    assert "valable 1 heure" in smtp_server.text_of(message)
    link = smtp_server.link_in(message, "/recuperation/mot-de-passe/lien/")
    token = link.rstrip("/").rsplit("/", 1)[1]

    # The link moves the token into the session and lands on a URL without it.
    response = client.get(_path(link))
    assert response.status_code == 302 and response["Location"] == SET and token not in response["Location"]
    form = client.get(SET)
    html = form.content.decode()
    assert token not in html
    assert "data-password-policy" in html and "recovery/new-password" in html
    assert 'autocomplete="new-password"' in html

    done = _set_password(client)
    assert done.status_code == 302 and done["Location"] == reverse("recovery:password_done")
    assert "identifiant=claire.exemple" in client.get(done["Location"]).content.decode()

    notice = smtp_server.wait_for(ADDRESS, count=2)
    assert notice["Subject"].strip() == "Cartable : votre mot de passe a été modifié"
    assert "avec la procédure « Mot de passe oublié »" in smtp_server.text_of(notice)
    assert AuditEvent.objects.filter(action="password.reset", target_username="claire.exemple").exists()

    client.logout()
    assert login(client, "claire.exemple", PASSWORD).status_code == 200  # the old one is refused
    assert login(client, "claire.exemple", NEW_PASSWORD).status_code == 302


def test_link_expiry_both_sides(client, email_parent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(START, {"identifiant": "claire.exemple"})
        path = _path(_link_from_outbox())
    with time_machine.travel(start + datetime.timedelta(minutes=59, seconds=59), tick=False):
        assert client.get(path)["Location"] == SET
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        expired = client.get(path)
        assert expired.status_code == 400
        html = expired.content.decode()
        assert str(tokens.TokenExpired()) in html.replace("&#x27;", "'")
        assert f'href="{START}">Recommencer' in html
        # The token already in the session is refused too.
        refused = _set_password(client)
        assert refused.status_code == 400 and "a expiré" in refused.content.decode()
    email_parent.refresh_from_db()
    assert email_parent.check_password(PASSWORD)


def test_link_is_single_use(client, email_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    path = _path(_link_from_outbox())
    client.get(path)
    assert _set_password(client).status_code == 302
    again = client.get(path)
    assert again.status_code == 400
    assert "a déjà été utilisé" in again.content.decode().replace("&#x27;", "'")


def test_tampered_link_is_invalid(client, email_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    path = _path(_link_from_outbox())
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    response = client.get(tampered)
    assert response.status_code == 400
    assert "n'est pas valide" in response.content.decode().replace("&#x27;", "'")
    assert views.TOKEN_KEY not in client.session


def test_a_new_request_voids_the_previous_link(client, email_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    first = _path(_link_from_outbox())
    client.post(START, {"identifiant": "claire.exemple"})
    second = _path(_link_from_outbox())
    assert first != second
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 302


def test_the_link_resets_its_own_account_only(client, email_parent, teacher):
    """Another account's link, followed while logged in as someone else, resets that account."""
    client.post(START, {"identifiant": "claire.exemple"})
    path = _path(_link_from_outbox())
    client.force_login(teacher)
    client.get(path)
    html = client.get(SET).content.decode()
    assert "claire.exemple" in html and "paul.prof" not in html.split("<main", 1)[1]
    _set_password(client)
    email_parent.refresh_from_db()
    teacher.refresh_from_db()
    assert email_parent.check_password(NEW_PASSWORD) and teacher.check_password(PASSWORD)


def test_policy_and_confirmation_errors_keep_the_link(client, email_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    client.get(_path(_link_from_outbox()))
    weak = _set_password(client, "court")
    assert weak.status_code == 200
    assert "au moins 8 caractères" in weak.content.decode()
    mismatch = _set_password(client, NEW_PASSWORD, NEW_PASSWORD + "x")
    html = mismatch.content.decode()
    assert "Les deux mots de passe ne sont pas identiques." in html
    assert 'aria-describedby="id_confirmation_error"' in html and "autofocus" in html
    personal = _set_password(client, "Claire-Exemple-99!")
    assert "ni votre identifiant, ni vos noms" in personal.content.decode()
    assert _set_password(client).status_code == 302


def test_success_voids_every_pending_reset(client, email_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    client.get(_path(_link_from_outbox()))
    stray = tokens.issue_code(email_parent, Kind.PASSWORD_RESET_SMS)
    assert _set_password(client).status_code == 302
    assert not Confirmation.objects.filter(user=email_parent, used_at__isnull=True).exists()
    with pytest.raises(tokens.TokenUsed):
        tokens.redeem_code(email_parent, Kind.PASSWORD_RESET_SMS, stray)


def test_success_lifts_the_login_lock(client, email_parent, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 2
    for _ in range(2):
        login(client, "claire.exemple", "faux")
    assert login(client, "claire.exemple", PASSWORD).status_code == 429
    client.post(START, {"identifiant": "claire.exemple"})
    client.get(_path(_link_from_outbox()))
    _set_password(client)
    assert login(client, "claire.exemple", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("state", ["not_activated", "deactivated"])
def test_accounts_that_cannot_be_recovered_get_nothing(client, email_parent, state):
    if state == "not_activated":
        email_parent.activated_at = None
    else:
        email_parent.is_active = False
    email_parent.save()
    assert client.post(START, {"identifiant": "claire.exemple"})["Location"] == NEXT
    assert not OutgoingEmail.objects.exists() and not Confirmation.objects.exists()


def test_steps_without_a_request_go_back_to_the_start(client, db):
    for url in (NEXT, reverse("recovery:password_questions"), SET):
        assert client.get(url)["Location"] == START
    assert client.post(reverse("recovery:password_resend"))["Location"] == START


def test_throttled_per_identifier_known_or_not(client, email_parent, settings):
    settings.RECOVERY_MAX_PER_ACCOUNT = 2
    for identifier in ("claire.exemple", "personne.inconnue"):
        for _ in range(2):
            assert client.post(START, {"identifiant": identifier}).status_code == 302
        blocked = client.post(START, {"identifiant": identifier.upper()})
        assert blocked.status_code == 429
        assert "Trop de demandes. Réessayez dans" in blocked.content.decode()
    assert OutgoingEmail.objects.count() == 2


def test_throttled_per_client_address(client, db, settings):
    settings.RECOVERY_MAX_PER_ADDRESS = 2
    client.post(START, {"identifiant": "a.a"})
    client.post(START, {"identifiant": "b.b"})
    assert client.post(START, {"identifiant": "c.c"}).status_code == 429
