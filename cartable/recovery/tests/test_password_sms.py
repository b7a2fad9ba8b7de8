"""Forgotten password, account with a mobile and no address: a 6-digit code by SMS."""

import datetime

import time_machine
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import Confirmation
from cartable.conftest import PASSWORD
from cartable.delivery.models import OutgoingEmail, OutgoingSMS
from cartable.delivery.testing import last_sms, last_sms_code
from cartable.portal.tests.helpers import login

from .conftest import NEW_PASSWORD, SCHOOL_MOBILE_E164, page

START = reverse("recovery:password")
NEXT = reverse("recovery:password_next")
RESEND = reverse("recovery:password_resend")
SET = reverse("recovery:password_set")

INVALID = "Ce lien ou ce code n'est pas valide."
TOO_MANY = "Trop d'essais avec ce code."
EXPIRED = "Ce lien ou ce code a expiré."


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_code_by_sms_then_new_password_then_login(client, sms_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    text = last_sms(SCHOOL_MOBILE_E164)
    assert "valable 30 minutes" in text and "Ne le communiquez à personne" in text
    assert not OutgoingEmail.objects.exists()
    response = client.post(NEXT, {"code": last_sms_code(SCHOOL_MOBILE_E164)})
    assert response.status_code == 302 and response["Location"] == SET
    assert client.post(SET, {"nouveau_mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD}).status_code == 302
    sms_parent.refresh_from_db()
    assert sms_parent.check_password(NEW_PASSWORD)
    assert login(client, "claire.exemple", NEW_PASSWORD).status_code == 302


def test_the_verified_mobile_comes_before_the_schools(client, sms_parent):
    sms_parent.mobile = "+33799887766"
    sms_parent.save()
    client.post(START, {"identifiant": "claire.exemple"})
    assert list(OutgoingSMS.objects.values_list("to", flat=True)) == ["+33799887766"]


def test_a_landline_is_not_texted(client, sms_parent):
    sms_parent.person.mobile = "01 23 45 67 89"
    sms_parent.person.save()
    client.post(START, {"identifiant": "claire.exemple"})
    assert not OutgoingSMS.objects.exists()


def test_spaces_in_the_code_are_ignored(client, sms_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    code = last_sms_code(SCHOOL_MOBILE_E164)
    assert client.post(NEXT, {"code": f"{code[:3]} {code[3:]}"})["Location"] == SET


def test_wrong_code_three_times_known_or_unknown_alike(client, sms_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    code = last_sms_code(SCHOOL_MOBILE_E164)
    known = [client.post(NEXT, {"code": _wrong(code)}) for _ in range(3)]
    known.append(client.post(NEXT, {"code": code}))  # even the right code is void now

    client.post(START, {"identifiant": "personne.inconnue"})
    unknown = [client.post(NEXT, {"code": _wrong(code)}) for _ in range(4)]

    expected = [INVALID, INVALID, TOO_MANY, TOO_MANY]
    for response, message in zip(known, expected, strict=True):
        assert response.status_code == 200 and message in _text(response)
    for k, u in zip(known, unknown, strict=True):
        assert page(k, "claire.exemple", code, _wrong(code)) == page(u, "personne.inconnue", code, _wrong(code))
    assert 'href="/recuperation/mot-de-passe/">Recommencer' in _text(known[2])
    sms_parent.refresh_from_db()
    assert sms_parent.check_password(PASSWORD)


def test_code_expiry_both_sides(client, sms_parent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(START, {"identifiant": "claire.exemple"})
        code = last_sms_code(SCHOOL_MOBILE_E164)
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        assert EXPIRED in _text(client.post(NEXT, {"code": code}))
    with time_machine.travel(start + datetime.timedelta(minutes=29, seconds=59), tick=False):
        assert client.post(NEXT, {"code": code})["Location"] == SET


def test_long_after_expiry_a_code_is_invalid_like_a_stand_in(client, sms_parent):
    """Past decoys.horizon() a stand-in is forgotten: a real code says "pas valide" then too."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(START, {"identifiant": "claire.exemple"})
        code = last_sms_code(SCHOOL_MOBILE_E164)
    with time_machine.travel(start + datetime.timedelta(minutes=59, seconds=59), tick=False):
        assert EXPIRED in _text(client.post(NEXT, {"code": code}))
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        assert INVALID in _text(client.post(NEXT, {"code": code}))
        client.post(START, {"identifiant": "personne.inconnue"}, REMOTE_ADDR="192.0.2.1")
    with time_machine.travel(start + datetime.timedelta(hours=1, minutes=59, seconds=59), tick=False):
        assert EXPIRED in _text(client.post(NEXT, {"code": code}))
    with time_machine.travel(start + datetime.timedelta(hours=2), tick=False):
        assert INVALID in _text(client.post(NEXT, {"code": code}))


def test_unknown_identifier_code_expires_too(client, db):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(START, {"identifiant": "personne.inconnue"})
    with time_machine.travel(start + datetime.timedelta(minutes=29, seconds=59), tick=False):
        assert INVALID in _text(client.post(NEXT, {"code": "123456"}))
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        assert EXPIRED in _text(client.post(NEXT, {"code": "123456"}))


def test_a_code_follows_its_identifier_not_the_session(sms_parent, settings):
    """A new session does not reset the tries, for a real code or a stand-in: both live on the
    server. With the per-number limit reached, starting again sends nothing new."""
    from django.test import Client

    settings.SMS_MAX_PER_NUMBER = 1
    for identifier in ("claire.exemple", "personne.inconnue"):
        first = Client()
        first.post(START, {"identifiant": identifier})
        for _ in range(3):
            first.post(NEXT, {"code": "000000"})
        second = Client(REMOTE_ADDR="192.0.2.9")
        second.post(START, {"identifiant": identifier})
        assert TOO_MANY in _text(second.post(NEXT, {"code": "000000"})), identifier
    assert OutgoingSMS.objects.count() == 1


def test_resend_gives_a_new_code_and_voids_the_old(client, sms_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    old = last_sms_code(SCHOOL_MOBILE_E164)
    response = client.post(RESEND)
    assert response["Location"] == NEXT
    assert "un nouveau courriel ou un nouveau SMS vient d'être envoyé" in _text(client.get(NEXT))
    new = last_sms_code(SCHOOL_MOBILE_E164)
    if new != old:  # one chance in a million that they are equal
        assert "a déjà été utilisé" in _text(client.post(NEXT, {"code": old})) or INVALID in _text(
            client.post(NEXT, {"code": old})
        )
    assert client.post(NEXT, {"code": new})["Location"] == SET


def test_at_most_sms_max_per_number_then_the_same_page(client, sms_parent, settings):
    settings.SMS_MAX_PER_NUMBER = 3
    client.post(START, {"identifiant": "claire.exemple"})
    for _ in range(3):
        assert client.post(RESEND).status_code == 302
    assert OutgoingSMS.objects.filter(to=SCHOOL_MOBILE_E164).count() == 3
    assert "Au plus 3 SMS peuvent être envoyés au même numéro en 1 heure." in _text(client.get(NEXT))
    # An hour later the number may receive codes again.
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1, seconds=1), tick=False):
        client.post(RESEND)
    assert OutgoingSMS.objects.filter(to=SCHOOL_MOBILE_E164).count() == 4


def test_resend_is_throttled_per_identifier(client, sms_parent, settings):
    settings.RECOVERY_MAX_PER_ACCOUNT = 3
    client.post(START, {"identifiant": "claire.exemple"})
    client.post(RESEND)
    client.post(RESEND)
    blocked = client.post(RESEND)
    assert blocked.status_code == 429
    assert "Trop de demandes. Réessayez dans" in _text(blocked)


def test_code_must_be_six_digits(client, sms_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    html = _text(client.post(NEXT, {"code": "12ab"}))
    assert "Le code comporte 6 chiffres." in html and 'aria-invalid="true"' in html
    assert Confirmation.objects.get(kind="password_reset_sms").attempts == 0
