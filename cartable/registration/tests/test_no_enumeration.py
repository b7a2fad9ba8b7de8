"""Whether the names and number are on file never shows: the same pages, the same limits.

Each test runs the same steps for a registration that matches (`newcomer`) and one that does
not (a name nobody has, the same number), in two clients, and compares what they see.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from cartable.accounts.models import User
from cartable.conftest import make_user
from cartable.delivery.models import OutgoingSMS
from cartable.delivery.testing import last_sms_code
from cartable.directory.models import Guardianship, Profile

from .conftest import E164, MOBILE, page, send_code, start, wrong_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roomy_limits(settings):
    """Both cases share one number: its limits are raised here, and tested on their own below."""
    settings.REGISTRATION_MAX_FAILURES = 100
    settings.SMS_MAX_PER_NUMBER = 100

GENERIC = "Nous ne pouvons pas poursuivre votre inscription"
SENT = "un code vous a été envoyé par SMS"
INVALID = "Ce lien ou ce code n&#x27;est pas valide"
EXPIRED = "Ce lien ou ce code a expiré"


def both(newcomer) -> tuple[Client, Client]:
    """(matched, unmatched) clients, each with its registration started."""
    matched, unmatched = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    first = start(matched)
    second = start(unmatched, nom="INCONNU", prenom="Personne")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("registration:code")
    return matched, unmatched


def test_match_and_no_match_give_identical_pages(newcomer):
    matched, unmatched = both(newcomer)
    one, two = matched.get(reverse("registration:code")), unmatched.get(reverse("registration:code"))
    assert page(one) == page(two)
    assert SENT in page(one)
    # Only the real one got an SMS.
    assert OutgoingSMS.objects.filter(to=E164).count() == 1


def test_a_wrong_code_says_the_same_in_both_cases(newcomer):
    matched, unmatched = both(newcomer)
    right = last_sms_code(E164)
    one, two = send_code(matched, wrong_code(right)), send_code(unmatched, wrong_code(right))
    assert one.status_code == two.status_code == 200
    assert page(one) == page(two)
    assert INVALID in page(one)


def test_too_many_tries_end_with_the_generic_message_in_both_cases(newcomer, settings):
    settings.CODE_MAX_ATTEMPTS = 3
    matched, unmatched = both(newcomer)
    right = last_sms_code(E164)
    for _ in range(2):
        assert INVALID in page(send_code(matched, wrong_code(right)))
        assert INVALID in page(send_code(unmatched, wrong_code(right)))
    one, two = send_code(matched, wrong_code(right)), send_code(unmatched, wrong_code(right))
    assert page(one) == page(two)
    assert GENERIC in page(one) and "Inscription impossible" in page(one)
    # The registration is over: even the right code does not go on.
    assert send_code(matched, right).status_code == 400


@pytest.mark.parametrize("elapsed, expired", [(datetime.timedelta(minutes=29, seconds=59), False), (datetime.timedelta(minutes=30), True)])
def test_a_code_lives_30_minutes_matched_or_not(newcomer, pupil, elapsed, expired):
    sent_at = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(sent_at, tick=False):
        matched, unmatched = both(newcomer)
        right = last_sms_code(E164)
    with time_machine.travel(sent_at + elapsed, tick=False):
        one = send_code(matched, right)
        two = send_code(unmatched, right)
    if expired:
        assert page(one) == page(two)
        assert EXPIRED in page(one)
    else:
        assert one.status_code == 302 and one["Location"] == reverse("registration:children")
        assert INVALID in page(two)


def test_resends_are_limited_per_registration_in_both_cases(newcomer, settings):
    settings.REGISTRATION_MAX_CODES = 2
    matched, unmatched = both(newcomer)
    first = last_sms_code(E164)
    one = matched.post(reverse("registration:resend"))
    two = unmatched.post(reverse("registration:resend"))
    assert one["Location"] == two["Location"] == reverse("registration:code")
    assert OutgoingSMS.objects.filter(to=E164).count() == 2
    second = last_sms_code(E164)
    # Only the newest code works; the resend button is gone once codes are exhausted.
    one_page, two_page = matched.get(reverse("registration:code")), unmatched.get(reverse("registration:code"))
    assert page(one_page) == page(two_page)
    assert "Renvoyer un code" not in page(one_page)
    one, two = matched.post(reverse("registration:resend")), unmatched.post(reverse("registration:resend"))
    assert page(one) == page(two) and GENERIC in page(one)
    assert OutgoingSMS.objects.filter(to=E164).count() == 2
    assert first != second or True  # codes are random: they may repeat, the old one is voided anyway


def test_the_old_code_dies_with_a_resend(newcomer, pupil, settings):
    client = Client()
    start(client)
    first = last_sms_code(E164)
    client.post(reverse("registration:resend"))
    second = last_sms_code(E164)
    if first == second:
        pytest.skip("the same 6 digits twice (one chance in a million)")
    assert INVALID in page(send_code(client, first))
    assert send_code(client, second)["Location"] == reverse("registration:children")


def test_codes_per_number_are_limited_across_registrations(newcomer, settings):
    settings.SMS_MAX_PER_NUMBER = 2
    settings.REGISTRATION_MAX_FAILURES = 100
    for _ in range(2):
        assert start(Client())["Location"] == reverse("registration:code")
    one, two = start(Client()), start(Client(), nom="INCONNU", prenom="Personne")
    assert page(one) == page(two) and GENERIC in page(one)
    assert OutgoingSMS.objects.filter(to=E164).count() == 2


def test_starts_are_throttled_per_address_matched_or_not(newcomer, settings):
    settings.REGISTRATION_MAX_FAILURES = 2
    client = Client()
    assert start(client, portable="06 11 11 11 11")["Location"] == reverse("registration:code")
    assert start(client, portable="06 22 22 22 22")["Location"] == reverse("registration:code")
    blocked = start(client)  # the right names and number: blocked all the same
    assert GENERIC in page(blocked)
    assert not OutgoingSMS.objects.filter(to=E164).exists()


def test_wrong_codes_are_throttled_per_number(newcomer, settings):
    settings.REGISTRATION_MAX_FAILURES = 3
    settings.CODE_MAX_ATTEMPTS = 10
    client = Client()
    start(client)  # 1
    right = last_sms_code(E164)
    assert INVALID in page(send_code(client, wrong_code(right)))  # 2
    assert GENERIC in page(send_code(client, wrong_code(right)))  # 3: blocked
    # From another address, the number stays blocked.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert GENERIC in page(start(other))


@pytest.fixture
def staff_parent(etab, pupil) -> User:
    user = make_user("rose.staff", Profile.RESPONSABLE, etab, first_name="Rose", last_name="STAFF", activated=False, is_staff=True)
    user.person.mobile = MOBILE
    user.person.save()
    Guardianship.objects.create(pupil=pupil.person, guardian=user.person, etablissement=etab, level=1)
    return user


def test_console_merged_and_staff_deactivated_accounts_are_not_matched(newcomer, staff_parent, teacher):
    newcomer.is_active, newcomer.deactivation_reason = False, "staff"
    newcomer.save()
    start(Client())
    newcomer.is_active, newcomer.deactivation_reason, newcomer.merged_into = True, "", teacher
    newcomer.save()
    start(Client())
    start(Client(), nom="STAFF", prenom="Rose")
    assert not OutgoingSMS.objects.exists()


def test_an_account_deactivated_for_expired_credentials_may_register(client, newcomer, pupil):
    from cartable.activation import expiry

    newcomer.is_active, newcomer.deactivation_reason = False, expiry.REASON
    newcomer.deactivated_at = newcomer.date_joined
    newcomer.save()
    from .conftest import register

    register(client, pupil.person.pk)
    newcomer.refresh_from_db()
    assert newcomer.is_active and newcomer.activated_at is not None and newcomer.deactivation_reason == ""


def test_a_person_who_is_not_a_responsable_is_not_matched(teacher):
    teacher.person.mobile = MOBILE
    teacher.person.save()
    start(Client(), nom="PROF", prenom="Paul")
    assert not OutgoingSMS.objects.exists()
