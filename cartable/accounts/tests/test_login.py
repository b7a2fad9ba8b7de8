"""Login: messages, no enumeration, deactivated and expired accounts, throttling, sessions."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.urls import reverse
from django.utils import timezone

from cartable.conftest import PASSWORD
from cartable.portal.choice import SESSION_KEY
from cartable.portal.tests.helpers import choose, log_in, login

GENERIC = "Identifiant ou mot de passe incorrect."
DISABLED = "Votre compte est désactivé : contactez votre établissement."


def test_login_form_shows_fields_and_links(client, db):
    html = client.get(reverse("portal:login")).content.decode()
    assert '<label for="id_identifiant">Identifiant</label>' in html
    assert '<label for="id_mot_de_passe">Mot de passe</label>' in html
    assert 'autocomplete="current-password"' in html
    for name in ("portal:forgot_identifier", "portal:forgot_password", "portal:activate"):
        assert reverse(name) in html
    assert "Identifiant oublié ?" in html and "Mot de passe oublié ?" in html


def test_successful_login_rotates_the_session_and_goes_home(client, parent):
    choose(client)
    key_before = client.session.session_key
    response = login(client, parent.username)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert client.session.session_key != key_before
    assert client.session["_auth_user_id"] == str(parent.pk)
    # The portal choice is recorded in the logged-in session.
    assert client.session[SESSION_KEY] == {"profile": "eleve_parent", "level": "college", "remember": False}


def test_identifier_is_case_and_space_insensitive(client, parent):
    assert login(client, "  Claire.EXEMPLE ").status_code == 302


def test_wrong_password_and_unknown_identifier_get_the_same_answer(client, parent):
    wrong = login(client, parent.username, "pas-le-bon")
    unknown = login(client, "personne.inconnue", "pas-le-bon")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        html = response.content.decode()
        assert GENERIC in html
        assert 'aria-describedby="identifiant-hint login-error"' in html
    assert "_auth_user_id" not in client.session


def test_unknown_identifier_costs_the_same_argon2_work_as_a_wrong_password(client, parent):
    """ModelBackend hashes the password of an unknown identifier: one Argon2 run either way."""
    # Patched on Django's Argon2 hasher, which CartableArgon2Hasher inherits from: Django verifies
    # "argon2" hashes with the last hasher of that name in PASSWORD_HASHERS (Django's own), and
    # hashes with the first (Cartable's).
    calls: list[str] = []
    real_encode, real_verify = Argon2PasswordHasher.encode, Argon2PasswordHasher.verify

    def encode(self, password, salt):
        calls.append("encode")
        return real_encode(self, password, salt)

    def verify(self, password, encoded):
        calls.append("verify")
        return real_verify(self, password, encoded)

    with mock.patch.object(Argon2PasswordHasher, "encode", encode), mock.patch.object(
        Argon2PasswordHasher, "verify", verify
    ):
        login(client, parent.username, "pas-le-bon")
        wrong = len(calls)
        calls.clear()
        login(client, "personne.inconnue", "pas-le-bon")
        unknown = len(calls)
        calls.clear()
        parent.is_active = False
        parent.save()
        login(client, parent.username, "pas-le-bon")
        inactive = len(calls)
    assert wrong == unknown == inactive == 1


def test_password_is_not_sent_back(client, parent):
    html = login(client, parent.username, "secret-a-ne-pas-renvoyer").content.decode()
    assert "secret-a-ne-pas-renvoyer" not in html
    assert f'value="{parent.username}"' in html  # the identifier is kept


def test_empty_fields_get_linked_errors(client, db):
    html = client.post(reverse("portal:login"), {}).content.decode()
    assert "Saisissez votre identifiant." in html
    assert 'id="identifiant-error"' in html and "identifiant-error" in html.split('id="id_identifiant"')[1][:600]


def test_deactivated_account_is_told_only_with_the_right_password(client, parent, etab):
    parent.is_active = False
    parent.save()
    html = login(client, parent.username, "pas-le-bon").content.decode()
    assert GENERIC in html and "désactivé" not in html
    response = login(client, parent.username, PASSWORD)
    html = response.content.decode()
    assert DISABLED in html
    assert etab.support_contact in html
    assert "_auth_user_id" not in client.session


def test_expired_provisional_credentials_are_told_only_with_the_right_password(client, parent, etab):
    parent.activated_at = None
    parent.credentials_issued_at = timezone.now() - datetime.timedelta(days=django_settings.ACTIVATION_DEADLINE_DAYS + 1)
    parent.save()
    html = login(client, parent.username, "pas-le-bon").content.decode()
    assert GENERIC in html and "désactivé" not in html
    html = login(client, parent.username, PASSWORD).content.decode()
    assert DISABLED in html
    assert etab.support_contact in html
    assert "_auth_user_id" not in client.session


def test_provisional_credentials_work_until_the_deadline(client, parent):
    issued = timezone.now()
    parent.activated_at = None
    parent.credentials_issued_at = issued
    parent.save()
    deadline = issued + datetime.timedelta(days=django_settings.ACTIVATION_DEADLINE_DAYS)
    with time_machine.travel(deadline - datetime.timedelta(minutes=1)):
        assert login(client, parent.username).status_code == 302
    client.logout()
    with time_machine.travel(deadline + datetime.timedelta(minutes=1)):
        assert DISABLED in login(client, parent.username).content.decode()


# --- Throttling -----------------------------------------------------------------------------


def test_account_is_blocked_after_too_many_failures_then_freed(client, parent, settings):
    assert settings.LOGIN_MAX_FAILURES_PER_ACCOUNT == 5
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(4):
            assert GENERIC in login(client, parent.username, "pas-le-bon").content.decode()
        fifth = login(client, parent.username, "pas-le-bon")
        assert fifth.status_code == 429
        assert "Trop de tentatives. Réessayez dans 15 minutes." in fifth.content.decode()
        # Blocked even with the right password, and the password is not checked.
        with mock.patch.object(Argon2PasswordHasher, "verify") as verify:
            blocked = login(client, parent.username, PASSWORD)
        verify.assert_not_called()
        assert blocked.status_code == 429
        assert blocked["Retry-After"] == str(15 * 60)
        html = blocked.content.decode()
        assert "Trop de tentatives. Réessayez dans 15 minutes." in html
        assert 'id="id_identifiant"' in html  # the login page, with the message
        assert "_auth_user_id" not in client.session

        traveller.shift(datetime.timedelta(minutes=10))
        assert "Réessayez dans 5 minutes." in login(client, parent.username, PASSWORD).content.decode()
        traveller.shift(datetime.timedelta(minutes=4, seconds=59))
        assert "Réessayez dans 1 minute." in login(client, parent.username, PASSWORD).content.decode()
        traveller.shift(datetime.timedelta(seconds=2))
        assert login(client, parent.username, PASSWORD).status_code == 302


def test_unknown_identifiers_are_throttled_too(client, db):
    for _ in range(5):
        response = login(client, "Personne.Inconnue", "x")
    assert response.status_code == 429
    # The counter is on the normalised identifier.
    assert login(client, " personne.inconnue ", "x").status_code == 429


def test_other_accounts_are_not_blocked_by_one_account_s_failures(client, parent, teacher):
    for _ in range(5):
        login(client, parent.username, "pas-le-bon")
    assert login(client, teacher.username).status_code == 302


def test_success_resets_the_account_counter(client, parent):
    for _ in range(4):
        login(client, parent.username, "pas-le-bon")
    assert login(client, parent.username).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, parent.username, "pas-le-bon").status_code == 200
    assert login(client, parent.username).status_code == 302


def test_address_is_blocked_after_too_many_failures(client, parent, teacher, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    for name in ("a.b", "c.d", "e.f"):
        login(client, name, "x", **attacker)
    response = login(client, teacher.username, **attacker)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    # Another address is not affected.
    assert login(client, teacher.username, REMOTE_ADDR="198.51.100.4").status_code == 302


def test_address_counter_is_not_reset_by_a_success(client, parent, teacher, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for name in ("a.b", "c.d"):
        login(client, name, "x")
    assert login(client, teacher.username).status_code == 302
    client.logout()
    login(client, "e.f", "x")
    assert login(client, parent.username).status_code == 429


def test_forwarded_address_is_used_only_behind_trusted_proxies(client, teacher, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 2
    for spoofed in ("192.0.2.1", "192.0.2.2"):
        login(client, "a.b", "x", HTTP_X_FORWARDED_FOR=spoofed)
    # Without a trusted proxy, X-Forwarded-For is ignored: both failures came from REMOTE_ADDR.
    assert login(client, teacher.username).status_code == 429


# --- Sessions and redirects -------------------------------------------------------------------


def test_public_choice_session_expires_at_browser_close(client, parent):
    log_in(client, parent.username, remember=False)
    assert client.session.get_expire_at_browser_close()


def test_remembered_choice_session_lasts_the_private_duration(client, parent, settings):
    log_in(client, parent.username, remember=True)
    assert not client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == settings.PRIVATE_SESSION_SECONDS


def test_login_without_a_choice_is_a_public_session(client, parent):
    assert login(client, parent.username).status_code == 302
    assert client.session.get_expire_at_browser_close()


def test_identifier_prefilled_from_the_letter_qr_code(client, db):
    html = client.get(reverse("portal:login"), {"identifiant": "claire.exemple"}).content.decode()
    assert 'name="identifiant" id="id_identifiant" value="claire.exemple"' in html
    assert "Aucun profil choisi." in html  # no profile chosen yet: still the login form


def test_prefill_is_escaped(client, db):
    html = client.get(reverse("portal:login"), {"identifiant": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)" not in html


def test_safe_next_is_followed(client, parent):
    response = login(client, parent.username, data={"next": "/aide/"})
    assert response["Location"] == "/aide/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_unsafe_next_is_ignored(client, parent, target):
    response = login(client, parent.username, data={"next": target})
    assert response["Location"] == reverse("portal:home")


def test_login_required_pages_come_back_after_login(client, parent):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:start") + "?next=")
    html = client.get(response["Location"]).content.decode()
    assert 'name="next" value="/accueil/"' in html
