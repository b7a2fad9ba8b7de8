"""The self-registration by SMS from start to « Compte activé ! », and what it writes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cartable.accounts.models import AuditEvent, CharterAcceptance, Confirmation
from cartable.delivery.models import OutgoingEmail, OutgoingSMS
from cartable.delivery.testing import last_sms_code
from cartable.portal.tests.helpers import log_in

from .conftest import (
    E164,
    NEW_PASSWORD,
    accept_charter,
    choose_password,
    confirm_children,
    register,
    send_code,
    start,
)

pytestmark = pytest.mark.django_db


def test_the_whole_flow_activates_the_account_and_it_logs_in(client, newcomer, pupil, charter):
    response = start(client)
    assert response.status_code == 302 and response["Location"] == reverse("registration:code")
    page = client.get(reverse("registration:code")).content.decode()
    assert "un code vous a été envoyé par SMS" in page and "06 12 34 56 78" in page

    code = last_sms_code(E164)
    response = send_code(client, code)
    assert response["Location"] == reverse("registration:children")
    page = client.get(reverse("registration:children")).content.decode()
    assert "Léa EXEMPLE" in page and "Collège des Exemples" in page and "6e A" in page

    response = confirm_children(client, pupil.person.pk)
    assert response["Location"] == reverse("registration:charter")
    response = accept_charter(client)
    assert response["Location"] == reverse("registration:password")
    page = client.get(reverse("registration:password")).content.decode()
    assert "claire.exemple" in page and "data-password-check" in page and "password-check.js" in page

    response = choose_password(client)
    assert response["Location"] == reverse("registration:done")
    page = client.get(reverse("registration:done")).content.decode()
    assert "Compte activé !" in page and "claire.exemple" in page

    newcomer.refresh_from_db()
    assert newcomer.activated_at is not None and newcomer.is_active
    assert newcomer.check_password(NEW_PASSWORD)
    assert CharterAcceptance.objects.filter(user=newcomer, charter=charter).exists()
    assert AuditEvent.objects.filter(action="account.registered", target_username="claire.exemple").exists()
    # The code is spent.
    assert not Confirmation.objects.filter(user=newcomer, kind="registration_code", used_at__isnull=True).exists()

    # The registration is over: its pages start again.
    assert client.get(reverse("registration:password")).status_code == 400

    log_in(client, "claire.exemple", password=NEW_PASSWORD)
    assert client.get(reverse("portal:home")).status_code == 200


def test_provisional_credentials_stop_working(client, newcomer, pupil):
    from cartable.accounts.services import issue_provisional_credentials

    [(_user, provisional)] = issue_provisional_credentials([newcomer], actor=None)
    register(client, pupil.person.pk)
    newcomer.refresh_from_db()
    assert not newcomer.check_password(provisional)


def test_a_notice_goes_to_a_verified_address(client, newcomer, pupil):
    newcomer.email, newcomer.email_verified = "claire@exemple.fr", True
    newcomer.save()
    register(client, pupil.person.pk)
    notice = OutgoingEmail.objects.get(to=["claire@exemple.fr"])
    assert "activé" in notice.subject and "claire.exemple" in notice.text


def test_names_and_number_in_any_form(client, newcomer, pupil):
    newcomer.person.last_name, newcomer.person.first_name = "EXEMPLE-DUPONT", "Claire"
    newcomer.person.mobile = "+33 (0)6.12.34.56.78"
    newcomer.person.save()
    response = start(client, nom="  exemple dupont ", prenom="CLAIRE", portable="0033 612 345 678")
    assert response.status_code == 302
    assert OutgoingSMS.objects.filter(to=E164).count() == 1


def test_usage_name_matches_too(client, newcomer, pupil):
    newcomer.person.usage_name = "Martin"
    newcomer.person.save()
    start(client, nom="Martin", prenom="Claire", portable="+33612345678")
    assert OutgoingSMS.objects.filter(to=E164).count() == 1


def test_an_invalid_number_is_said_at_once(client, newcomer):
    response = start(client, portable="01 23 45 67 89")  # a landline: no SMS
    assert response.status_code == 200
    assert "Saisissez un numéro de téléphone portable valide" in response.content.decode()
    assert not OutgoingSMS.objects.exists()


def test_the_login_page_links_here(client):
    page = client.get(reverse("portal:login")).content.decode()
    assert reverse("registration:start") in page and "pas de compte" in page


def test_steps_cannot_be_skipped(client, newcomer, pupil):
    start(client)
    assert client.get(reverse("registration:children"))["Location"] == reverse("registration:code")
    assert client.get(reverse("registration:password"))["Location"] == reverse("registration:code")


def test_starting_rotates_the_session(client, newcomer, pupil):
    """A session planted beforehand (fixation) is not the one the registration goes on in."""
    client.get(reverse("registration:start"))
    session = client.session
    session["planted"] = "x"
    session.save()
    before = client.cookies["sessionid"].value
    start(client)
    assert client.cookies["sessionid"].value != before
    assert "planted" not in client.session


def test_the_step_numbers_do_not_depend_on_the_account(client, newcomer, pupil, charter):
    from cartable.accounts.models import CharterAcceptance

    CharterAcceptance.objects.create(user=newcomer, charter=charter)
    start(client)
    assert "Étape 2 sur 5" in client.get(reverse("registration:code")).content.decode()
    send_code(client, last_sms_code(E164))
    assert confirm_children(client, pupil.person.pk)["Location"] == reverse("registration:password")


def test_a_registration_expires(client, newcomer, pupil, settings):
    import datetime

    import time_machine

    now = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(now, tick=False):
        start(client)
    settings.REGISTRATION_FLOW_SECONDS = 600
    with time_machine.travel(now + datetime.timedelta(seconds=601), tick=False):
        response = client.get(reverse("registration:code"))
    assert response.status_code == 400 and "Aucune inscription n" in response.content.decode()


def test_the_code_typed_twice_goes_on(client, newcomer, pupil):
    """A second click (or the back button) after the right code does not end the registration."""
    start(client)
    code = last_sms_code(E164)
    send_code(client, code)
    assert send_code(client, code)["Location"] == reverse("registration:children")
