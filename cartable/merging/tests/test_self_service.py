"""« Regrouper mes comptes »: a parent signed in to one account merges the other into it."""

from __future__ import annotations

import datetime
import html
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.hashers import CartableArgon2Hasher
from cartable.accounts.models import AuditEvent, User
from cartable.accounts.services import issue_provisional_credentials
from cartable.activation.services import check_birth_dates, children_to_check
from cartable.conftest import PASSWORD, make_user
from cartable.directory.models import Guardianship, Profile
from cartable.portal.tests.helpers import choose, login

START = reverse("merging:start")
CONFIRM = reverse("merging:confirm")
DONE = reverse("merging:done")
CHILDREN = reverse("myaccount:children")

pytestmark = pytest.mark.django_db


def _error(response) -> str:
    """The text of the error summary (what the person reads)."""
    match = re.search(r'error-summary"[^>]*>\s*<p>(.*?)</p>', response.content.decode(), re.S)
    assert match, response.content.decode()[:3000]
    return html.unescape(match.group(1)).strip()


def _prove(client, identifier: str, password: str = PASSWORD):
    return client.post(START, {"identifiant": identifier, "mot_de_passe": password})


def test_parent_merges_an_activated_account(client, parent, second_account):
    client.force_login(parent)
    page = client.get(reverse("myaccount:profile")).content.decode()
    assert f'href="{START}"' in page and "Regrouper mes comptes" in page
    page = html.unescape(client.get(CHILDREN).content.decode())
    assert "Un enfant manque ?" in page and f'<a href="{START}">regroupez vos comptes</a>' in page

    response = _prove(client, "Claire.Exemple2 ")  # typed as people type identifiers
    assert response.status_code == 302 and response["Location"] == CONFIRM
    page = client.get(CONFIRM).content.decode()
    assert "Compte conservé : claire.exemple" in page and "Compte fermé : claire.exemple2" in page
    assert "Léa EXEMPLE" in page and "Hugo EXEMPLE" in page and "Classe 5e B" in page
    assert User.objects.get(pk=second_account.pk).is_active  # nothing merged before the confirmation

    response = client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})
    assert response.status_code == 302 and response["Location"] == DONE
    page = html.unescape(client.get(DONE).content.decode())
    assert "Vos comptes sont regroupés : utilisez désormais l'identifiant claire.exemple." in page
    assert "Hugo EXEMPLE" in page

    closed = User.objects.get(pk=second_account.pk)
    assert not closed.is_active and closed.merged_into_id == parent.pk
    line = AuditEvent.objects.get(action="account.merged", target_username="claire.exemple")
    assert line.detail["via"] == "self_service" and line.actor_id == parent.pk
    # Mon compte → Enfants lists both sets of children.
    page = client.get(CHILDREN).content.decode()
    assert "Léa EXEMPLE" in page and "Hugo EXEMPLE" in page
    # The proof is spent: the confirmation page sends back to the start.
    assert client.get(CONFIRM)["Location"] == START


def test_a_not_yet_activated_account_is_proven_by_its_provisional_password(client, parent, etab, sibling):
    other = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE",
                      password=None, activated=False)
    Guardianship.objects.create(pupil=sibling.person, guardian=other.person, etablissement=etab, level=1)
    [(_user, provisional)] = issue_provisional_credentials([other], actor=None)
    client.force_login(parent)

    assert _error(_prove(client, "claire.exemple2", "pas-le-bon")) == "Identifiant ou mot de passe incorrect."
    response = _prove(client, "claire.exemple2", provisional)
    assert response.status_code == 302 and response["Location"] == CONFIRM
    client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})
    assert User.objects.get(pk=other.pk).merged_into_id == parent.pk


def test_provisional_password_past_its_deadline_proves_nothing(client, parent, etab, settings):
    other = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE",
                      password=None, activated=False)
    [(_user, provisional)] = issue_provisional_credentials([other], actor=None)
    # One day before the deadline, it works; one day after, not.
    User.objects.filter(pk=other.pk).update(
        credentials_issued_at=timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS - 1)
    )
    client.force_login(parent)
    assert _prove(client, "claire.exemple2", provisional)["Location"] == CONFIRM
    User.objects.filter(pk=other.pk).update(
        credentials_issued_at=timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1)
    )
    response = _prove(client, "claire.exemple2", provisional)
    assert response.status_code == 200
    assert "mot de passe provisoire de ce compte a expiré" in _error(response)
    # The proof given a moment ago does not survive either.
    assert client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})["Location"] == START
    assert User.objects.get(pk=other.pk).merged_into_id is None


def test_a_proof_expires_with_the_provisional_password(client, parent, etab, settings):
    other = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE",
                      password=None, activated=False)
    [(_user, provisional)] = issue_provisional_credentials([other], actor=None)
    client.force_login(parent)
    assert _prove(client, "claire.exemple2", provisional)["Location"] == CONFIRM
    User.objects.filter(pk=other.pk).update(
        credentials_issued_at=timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1)
    )
    assert client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})["Location"] == START
    assert User.objects.get(pk=other.pk).merged_into_id is None


def test_unknown_identifier_and_wrong_password_are_indistinguishable(client, parent, second_account):
    client.force_login(parent)
    counted = {"hash": 0, "verify": 0}
    real_encode, real_verify = CartableArgon2Hasher.encode, CartableArgon2Hasher.verify

    def encode(self, *args, **kwargs):
        counted["hash"] += 1
        return real_encode(self, *args, **kwargs)

    def verify(self, *args, **kwargs):
        counted["verify"] += 1
        return real_verify(self, *args, **kwargs)

    with mock.patch.object(CartableArgon2Hasher, "encode", encode), mock.patch.object(CartableArgon2Hasher, "verify", verify):
        unknown = _prove(client, "personne.inconnue", "Motdepasse-2026")
        unknown_cost = dict(counted)
        counted.update(hash=0, verify=0)
        wrong = _prove(client, "claire.exemple2", "Mauvais-2026")
        wrong_cost = dict(counted)
    assert unknown.status_code == wrong.status_code == 200
    assert _error(unknown) == _error(wrong) == "Identifiant ou mot de passe incorrect."
    # One Argon2 computation each: a throwaway hash for the unknown identifier, a check otherwise.
    assert sum(unknown_cost.values()) == sum(wrong_cost.values()) == 1


def test_wrong_passwords_are_throttled_like_the_login(client, parent, second_account, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    client.force_login(parent)
    for _attempt in range(2):
        assert _error(_prove(client, "claire.exemple2", "Mauvais-2026")) == "Identifiant ou mot de passe incorrect."
    response = _prove(client, "claire.exemple2", "Mauvais-2026")
    assert response.status_code == 429 and "Trop de tentatives" in _error(response)
    # Now even the right password is refused, without being checked.
    response = _prove(client, "claire.exemple2")
    assert response.status_code == 429 and "Trop de tentatives" in _error(response)
    # And the same counter blocks the portal's login with that identifier.
    client.logout()
    choose(client)
    assert "Trop de tentatives" in html.unescape(login(client, "claire.exemple2").content.decode())


def test_unknown_identifiers_are_throttled_too(client, parent, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    client.force_login(parent)
    for name in ("a.b", "c.d"):
        assert _error(_prove(client, name)) == "Identifiant ou mot de passe incorrect."
    assert "Trop de tentatives" in _error(_prove(client, "e.f"))


def test_refusals_after_the_right_password(client, parent, secretary, teacher, etab):
    client.force_login(parent)
    assert "C'est le compte avec lequel vous êtes connecté" in _error(_prove(client, "claire.exemple"))
    assert "donne accès à la console" in _error(_prove(client, "sophie.secretaire"))
    assert "Seuls des comptes de parents" in _error(_prove(client, "paul.prof"))


def test_current_password_is_required_and_counted(client, parent, second_account, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 2
    client.force_login(parent)
    _prove(client, "claire.exemple2")
    response = client.post(CONFIRM, {"mot_de_passe_actuel": "Mauvais-2026"})
    assert response.status_code == 200 and "Mot de passe actuel incorrect." in response.content.decode()
    response = client.post(CONFIRM, {"mot_de_passe_actuel": "Mauvais-2026"})
    assert "Trop de tentatives" in html.unescape(response.content.decode())
    response = client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})
    assert "Trop de tentatives" in html.unescape(response.content.decode())
    assert User.objects.get(pk=second_account.pk).merged_into_id is None


def test_proof_dies_when_the_other_password_changes(client, parent, second_account):
    client.force_login(parent)
    _prove(client, "claire.exemple2")
    second_account.set_password("Autre-mot-de-passe-2026")
    second_account.save()
    response = client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})
    assert response.status_code == 302 and response["Location"] == START
    assert User.objects.get(pk=second_account.pk).merged_into_id is None


def test_proof_belongs_to_the_session_that_gave_it(client, parent, second_account, etab):
    client.force_login(parent)
    _prove(client, "claire.exemple2")
    # Someone else signs in on this browser (the session is a new one, but say it were kept).
    intruder = make_user("marc.autre", Profile.RESPONSABLE, etab, first_name="Marc", last_name="AUTRE")
    session = client.session
    client.force_login(intruder)
    new_session = client.session
    new_session["cartable.merging.proof"] = session.get("cartable.merging.proof")
    new_session.save()
    assert client.get(CONFIRM)["Location"] == START


def test_pages_refuse_who_is_not_a_parent(client, teacher, pupil, secretary):
    for user in (teacher, pupil, secretary):
        client.force_login(user)
        response = client.get(START)
        assert response.status_code == 403
        assert "Le regroupement concerne les comptes de parents" in html.unescape(response.content.decode())
    client.logout()
    assert client.get(START).status_code == 302  # to the login


def test_login_with_the_absorbed_identifier(client, parent, second_account):
    client.force_login(parent)
    _prove(client, "claire.exemple2")
    client.post(CONFIRM, {"mot_de_passe_actuel": PASSWORD})
    client.logout()

    choose(client)
    page = html.unescape(login(client, "claire.exemple2").content.decode())
    assert "Ce compte a été regroupé avec votre compte « claire.exemple »" in page
    assert "connectez-vous désormais avec l'identifiant claire.exemple" in page
    assert "_auth_user_id" not in client.session

    page = html.unescape(login(client, "claire.exemple2", "Mauvais-2026").content.decode())
    assert "Identifiant ou mot de passe incorrect." in page and "regroupé" not in page

    assert login(client, "claire.exemple")["Location"] == reverse("portal:home")


def test_activation_birth_date_check_sees_the_merged_children(parent, pupil, second_account, sibling, etab):
    """A kept account activated again (a staff reset) is asked the birth dates of all its children."""
    from cartable.merging.services import merge_accounts

    merge_accounts(parent, second_account, actor=None, via="staff")
    assert {p.pk for p in children_to_check(parent)} == {pupil.person_id, sibling.person_id}
    only_lea = {pupil.person_id: pupil.person.birth_date}
    assert not check_birth_dates(parent, only_lea).ok
    both = {**only_lea, sibling.person_id: sibling.person.birth_date}
    assert check_birth_dates(parent, both).ok
