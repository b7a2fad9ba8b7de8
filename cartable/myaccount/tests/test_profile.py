"""Mon compte, Profil: the identifier (not editable), the address, the mobile and its SMS code."""

import datetime

import time_machine
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import AuditEvent
from cartable.conftest import PASSWORD
from cartable.delivery.models import OutgoingSMS
from cartable.delivery.testing import last_sms, last_sms_code

PROFILE = reverse("myaccount:profile")
MOBILE = reverse("myaccount:mobile")
CONFIRM = reverse("myaccount:mobile_confirm")
NEW_MOBILE = "+33798765432"


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def _ask_code(client, number="07 98 76 54 32", password=PASSWORD):
    return client.post(MOBILE, {"mobile-mot_de_passe_actuel": password, "mobile-nouveau_numero": number})


def test_login_required(client, parent):
    for name in ("profile", "children", "security"):
        response = client.get(reverse(f"myaccount:{name}"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("portal:start"))


def test_profile_shows_the_identifier_read_only_and_the_tabs(client, parent):
    client.force_login(parent)
    html = _text(client.get(PROFILE))
    assert 'id="identifiant" value="claire.exemple" readonly aria-describedby="identifiant-hint"' in html
    assert "L'identifiant n'est pas modifiable." in html
    assert f'<a href="{PROFILE}" aria-current="page">Profil</a>' in html
    assert f'href="{reverse("myaccount:children")}"' in html and f'href="{reverse("myaccount:security")}"' in html
    assert f'action="{reverse("portal:logout")}"' in html and "Se déconnecter" in html
    # "Mon compte" in the main navigation, current here.
    assert f'<a href="{PROFILE}" aria-current="page">Mon compte</a>' in html


def test_mobile_change_needs_the_current_password(client, parent):
    client.force_login(parent)
    response = _ask_code(client, password="faux")
    assert response.status_code == 200
    html = _text(response)
    assert "Mot de passe actuel incorrect." in html
    assert 'aria-describedby="id_mobile-mot_de_passe_actuel_helptext id_mobile-mot_de_passe_actuel_error"' in html
    assert not OutgoingSMS.objects.exists()


def test_mobile_change_by_sms_code(client, parent):
    client.force_login(parent)
    response = _ask_code(client)
    assert response.status_code == 302
    assert "valable 30 minutes" in last_sms(NEW_MOBILE)
    html = _text(client.get(PROFILE))
    assert "Code envoyé au 07 98 76 54 32" in html
    parent.refresh_from_db()
    assert parent.mobile == ""  # not before the code
    assert client.post(CONFIRM, {"code-code": last_sms_code(NEW_MOBILE)})["Location"] == PROFILE
    parent.refresh_from_db()
    assert parent.mobile == NEW_MOBILE
    assert "07 98 76 54 32" in _text(client.get(PROFILE))
    assert AuditEvent.objects.filter(action="mobile.changed", target_username="claire.exemple").exists()


def test_mobile_code_wrong_three_times(client, parent):
    client.force_login(parent)
    _ask_code(client)
    code = last_sms_code(NEW_MOBILE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "n'est pas valide" in _text(client.post(CONFIRM, {"code-code": wrong}))
    assert "n'est pas valide" in _text(client.post(CONFIRM, {"code-code": wrong}))
    assert "Trop d'essais" in _text(client.post(CONFIRM, {"code-code": wrong}))
    assert "Trop d'essais" in _text(client.post(CONFIRM, {"code-code": code}))
    parent.refresh_from_db()
    assert parent.mobile == ""


def test_mobile_code_expiry_both_sides(client, parent):
    client.force_login(parent)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _ask_code(client)
        code = last_sms_code(NEW_MOBILE)
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        assert "a expiré" in _text(client.post(CONFIRM, {"code-code": code}))
    with time_machine.travel(start + datetime.timedelta(minutes=29, seconds=59), tick=False):
        assert client.post(CONFIRM, {"code-code": code}).status_code == 302


def test_not_a_mobile_number(client, parent):
    client.force_login(parent)
    html = _text(_ask_code(client, number="01 23 45 67 89"))
    assert "Saisissez un numéro de téléphone portable" in html


def test_codes_per_number_are_limited(client, parent, settings):
    settings.SMS_MAX_PER_NUMBER = 2
    client.force_login(parent)
    assert _ask_code(client).status_code == 302
    assert _ask_code(client).status_code == 302
    blocked = _ask_code(client)
    assert blocked.status_code == 429 and "Trop de demandes. Réessayez dans" in _text(blocked)
    assert OutgoingSMS.objects.count() == 2
