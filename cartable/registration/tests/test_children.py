"""The children step, the accounts it completes, and the password policy."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from cartable.accounts.models import User
from cartable.conftest import make_user
from cartable.delivery.models import OutgoingSMS
from cartable.delivery.testing import last_sms_code
from cartable.directory.models import Division, Guardianship, Membership, Profile
from cartable.linking.models import LinkReport

from .conftest import (
    E164,
    MOBILE,
    NEW_PASSWORD,
    accept_charter,
    choose_password,
    confirm_children,
    page,
    register,
    send_code,
    start,
)

pytestmark = pytest.mark.django_db

GENERIC = "Nous ne pouvons pas poursuivre votre inscription"


def to_children(client: Client, **identity: str) -> None:
    start(client, **identity)
    assert send_code(client, last_sms_code(E164))["Location"] == reverse("registration:children")


@pytest.fixture
def second_child(etab, division, newcomer) -> User:
    """Hugo, born 02/09/2017, also Claire's."""
    hugo = make_user(
        "hugo.exemple", Profile.ELEVE, etab, first_name="Hugo", last_name="EXEMPLE", division=division,
        birth_date=datetime.date(2017, 9, 2),
    )
    Guardianship.objects.create(pupil=hugo.person, guardian=newcomer.person, etablissement=etab, level=1)
    return hugo


def test_wrong_birth_dates_are_throttled_then_the_generic_message(client, newcomer, pupil, settings):
    settings.BIRTHDATE_MAX_FAILURES = 2
    to_children(client)
    response = confirm_children(client, pupil.person.pk, date="15/03/2015")
    assert response.status_code == 200
    assert "ne correspondent pas" in page(response) and "il vous reste 1 essai" in page(response)
    response = confirm_children(client, pupil.person.pk, date="16/03/2015")
    assert GENERIC in page(response)
    # A new registration on the same account is still blocked (activation's counter per account).
    other = Client(REMOTE_ADDR="10.1.1.1")
    to_children(other)
    assert GENERIC in page(confirm_children(other, pupil.person.pk))


def test_the_birth_date_counter_is_shared_with_the_activation(newcomer, pupil, settings):
    from cartable.activation.services import birth_date_limit
    from cartable.lib import throttle

    settings.BIRTHDATE_MAX_FAILURES = 2
    for _ in range(2):
        throttle.record_failure(birth_date_limit(), f"user:{newcomer.pk}")
    client = Client()
    to_children(client)
    assert GENERIC in page(confirm_children(client, pupil.person.pk))  # even the right date


def test_every_child_must_be_answered_and_one_confirmed(client, newcomer, pupil, second_child):
    to_children(client)
    response = confirm_children(client, pupil.person.pk)  # Hugo left blank
    assert response.status_code == 200 and "Saisissez la date de naissance de Hugo" in page(response)
    response = client.post(
        reverse("registration:children"),
        {f"naissance_{pupil.person.pk}": "14/03/2015", f"naissance_{second_child.person.pk}": "2/9/2017"},
    )
    assert response["Location"] == reverse("registration:charter")


def test_rejecting_a_link_files_a_report_and_leaves_the_child_out(client, newcomer, pupil, second_child, etab):
    to_children(client)
    response = confirm_children(client, pupil.person.pk, **{f"refus_{second_child.person.pk}": "on"})
    assert response["Location"] == reverse("registration:charter")
    report = LinkReport.objects.get()
    assert (report.guardian, report.pupil, report.etablissement) == (newcomer.person, second_child.person, etab)
    assert report.reporter == newcomer and report.source == LinkReport.Source.REGISTRATION and report.is_open
    # The link itself stays until the staff fix it.
    assert Guardianship.objects.filter(guardian=newcomer.person, pupil=second_child.person).exists()


def test_rejecting_every_child_files_the_reports_and_stops(client, newcomer, pupil):
    to_children(client)
    response = client.post(reverse("registration:children"), {f"refus_{pupil.person.pk}": "on"})
    assert GENERIC in page(response) and "signalement a été transmis" in page(response)
    assert LinkReport.objects.filter(pupil=pupil.person).exists()
    newcomer.refresh_from_db()
    assert newcomer.activated_at is None


def test_a_child_without_birth_date_is_said_and_left_out(client, newcomer, pupil, second_child):
    second_child.person.birth_date = None
    second_child.person.save()
    to_children(client)
    body = page(client.get(reverse("registration:children")))
    assert "n&#x27;a pas enregistré la date de naissance" in body or "n'a pas enregistré la date de naissance" in body
    assert f"naissance_{second_child.person.pk}" not in body
    assert confirm_children(client, pupil.person.pk)["Location"] == reverse("registration:charter")


def test_no_child_to_confirm_says_so(client, newcomer, pupil):
    pupil.person.birth_date = None
    pupil.person.save()
    to_children(client)
    response = client.get(reverse("registration:children"))
    assert "Contactez le secrétariat" in page(response)


def test_a_number_matching_two_responsables_matches_the_typed_name_only(client, newcomer, pupil, etab):
    """Claire and Marc share the home mobile: Marc registering gets Marc's account, not Claire's."""
    marc = make_user("marc.exemple", Profile.RESPONSABLE, etab, first_name="Marc", last_name="EXEMPLE", password=None, activated=False)
    marc.person.mobile = "+33 6 12 34 56 78"
    marc.person.save()
    Guardianship.objects.create(pupil=pupil.person, guardian=marc.person, etablissement=etab, level=1)
    register(client, pupil.person.pk, nom="Exemple", prenom="marc")
    marc.refresh_from_db()
    newcomer.refresh_from_db()
    assert marc.activated_at is not None and marc.check_password(NEW_PASSWORD)
    assert newcomer.activated_at is None and newcomer.merged_into is None
    assert OutgoingSMS.objects.filter(to=E164).count() == 1


@pytest.fixture
def recorded_twice(newcomer, pupil, other_etab) -> tuple[User, User]:
    """Claire as a second Person in another collège (same names and number), with Tom there."""
    division = Division.objects.create(etablissement=other_etab, year=2026, code="5B")
    tom = make_user(
        "tom.exemple", Profile.ELEVE, other_etab, first_name="Tom", last_name="EXEMPLE", division=division,
        birth_date=datetime.date(2013, 6, 1),
    )
    twin = make_user(
        "claire.exemple2", Profile.RESPONSABLE, other_etab, first_name="Claire", last_name="Exemple", password=None,
        activated=False,
    )
    twin.person.mobile = "0612345678"
    twin.person.save()
    Guardianship.objects.create(pupil=tom.person, guardian=twin.person, etablissement=other_etab, level=1)
    return twin, tom


def test_a_person_recorded_twice_ends_with_one_account_holding_both_children(client, newcomer, pupil, recorded_twice):
    twin, tom = recorded_twice
    to_children(client)
    body = page(client.get(reverse("registration:children")))
    assert "Léa EXEMPLE" in body and "Tom EXEMPLE" in body and "Collège Jean Moulin" in body
    response = client.post(
        reverse("registration:children"),
        {f"naissance_{pupil.person.pk}": "14/03/2015", f"naissance_{tom.person.pk}": "01/06/2013"},
    )
    assert response["Location"] == reverse("registration:charter")
    accept_charter(client)
    assert choose_password(client)["Location"] == reverse("registration:done")
    newcomer.refresh_from_db()
    twin.refresh_from_db()
    # The oldest account is kept (neither was activated), the other merged into it.
    assert newcomer.activated_at is not None and newcomer.check_password(NEW_PASSWORD)
    assert twin.merged_into == newcomer and not twin.is_active
    from cartable.myaccount.services import children_of

    assert {child.name for child in children_of(newcomer)} == {"Léa EXEMPLE", "Tom EXEMPLE"}


def test_the_activated_account_is_the_one_kept(client, newcomer, pupil, recorded_twice):
    twin, tom = recorded_twice
    twin.activated_at = twin.date_joined
    twin.save()
    to_children(client)
    client.post(
        reverse("registration:children"),
        {f"naissance_{pupil.person.pk}": "14/03/2015", f"naissance_{tom.person.pk}": "01/06/2013"},
    )
    accept_charter(client)
    body = page(client.get(reverse("registration:password")))
    assert "claire.exemple2" in body
    choose_password(client)
    newcomer.refresh_from_db()
    assert newcomer.merged_into == twin


@pytest.mark.parametrize(
    "password, message",
    [
        ("Claire.exemple-2026", "ni votre identifiant, ni vos noms"),
        ("Exemple!Famille99", "ni votre identifiant, ni vos noms"),
        ("court1A", "au moins 8 caractères"),
    ],
)
def test_the_password_policy_is_applied(client, newcomer, pupil, password, message):
    to_children(client)
    confirm_children(client, pupil.person.pk)
    accept_charter(client)
    response = choose_password(client, password)
    assert response.status_code == 200 and message in page(response)
    newcomer.refresh_from_db()
    assert newcomer.activated_at is None


def test_two_passwords_that_differ_are_refused(client, newcomer, pupil):
    to_children(client)
    confirm_children(client, pupil.person.pk)
    accept_charter(client)
    response = client.post(reverse("registration:password"), {"mot_de_passe1": NEW_PASSWORD, "mot_de_passe2": NEW_PASSWORD + "x"})
    assert "ne sont pas identiques" in page(response)


def test_an_activated_account_already_accepting_the_charter_skips_it(client, newcomer, pupil, charter):
    from cartable.accounts.models import CharterAcceptance

    CharterAcceptance.objects.create(user=newcomer, charter=charter)
    to_children(client)
    assert confirm_children(client, pupil.person.pk)["Location"] == reverse("registration:password")


def test_a_departed_responsable_is_still_matched_through_a_legal_link(client, newcomer, pupil):
    Membership.objects.filter(person=newcomer.person).update(departed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    to_children(client)


def test_the_mobile_on_file_must_match(client, newcomer):
    start(client, portable="06 99 99 99 99")
    assert not OutgoingSMS.objects.exists()
    assert MOBILE  # the school's is another
