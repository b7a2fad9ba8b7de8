"""The console: « Réactiver le compte », the activation dashboard, the charter's versions."""

from __future__ import annotations

import datetime
import io

import pypdf
import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import AuditEvent, Charter, User
from cartable.accounts.services import issue_provisional_credentials
from cartable.activation.expiry import expire_accounts
from cartable.conftest import PASSWORD, make_user
from cartable.directory.models import Division, Guardianship, Membership, Person, Profile

DAY = datetime.timedelta(days=1)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin", PASSWORD)


@pytest.fixture
def console(client, secretary):
    client.force_login(secretary)
    return client


def run_action(client, action: str, users: list[User], **extra: str):
    data = {"action": action, "_selected_action": [u.pk for u in users], **extra}
    return client.post(reverse("admin:accounts_user_changelist"), data)


def password_in(response) -> str:
    assert response["Content-Type"] == "application/pdf", response.content[:300]
    lines = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text().splitlines()
    start = lines.index("Mot de passe provisoire")
    return next(line for line in lines[start + 1 :] if len(line) >= 10 and " " not in line)


def expired_letter(user: User, settings) -> User:
    issue_provisional_credentials([user], actor=None)
    User.objects.filter(pk=user.pk).update(
        credentials_issued_at=timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 5)
    )
    expire_accounts()
    user.refresh_from_db()
    assert not user.is_active and user.deactivation_reason == "activation_deadline"
    return user


# --- « Réactiver le compte » ---------------------------------------------------------------------


def test_reactivating_an_expired_account_prints_a_new_letter(console, secretary, letter, settings, client):
    user = expired_letter(letter[0], settings)
    response = run_action(console, "reactivate", [user])
    password = password_in(response)
    user.refresh_from_db()
    assert user.is_active and user.deactivated_at is None and user.deactivation_reason == ""
    assert user.activation_deadline > timezone.now() + datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS - 1)
    assert AuditEvent.objects.filter(action="credentials.issued", actor=secretary, target_username=user.username).exists()
    # The person activates with the new letter.
    from .helpers import location, start

    client.logout()
    assert location(start(client, user.username, password)) == reverse("activation:charter")


def test_reactivating_an_account_deactivated_by_staff_switches_it_back_on(console, secretary, pupil):
    console.post(reverse("admin:accounts_user_change", args=[pupil.pk]), {})  # is_active unticked
    pupil.refresh_from_db()
    assert not pupil.is_active and pupil.deactivation_reason == "staff" and pupil.deactivated_at is not None
    response = run_action(console, "reactivate", [pupil])
    assert response.status_code == 302  # no letter: the person's password still works
    pupil.refresh_from_db()
    assert pupil.is_active and pupil.deactivated_at is None and pupil.deactivation_reason == ""
    assert authenticate(username=pupil.username, password=PASSWORD) is not None
    assert AuditEvent.objects.get(action="account.reactivated").actor == secretary
    assert "1 compte réactivé." in console.get(reverse("admin:accounts_user_changelist")).content.decode()


def test_reactivate_leaves_active_and_foreign_accounts_alone(console, pupil, other_etab, settings):
    stranger = make_user("hugo.ailleurs", Profile.ELEVE, other_etab, password=None, activated=False)
    stranger = expired_letter(stranger, settings)
    response = run_action(console, "reactivate", [pupil, stranger])
    assert response.status_code == 302
    stranger.refresh_from_db()
    assert not stranger.is_active  # another établissement's account: out of reach
    assert "1 compte déjà actif ignoré." in console.get(reverse("admin:accounts_user_changelist")).content.decode()


def test_printing_a_letter_clears_the_deactivation(console, letter, settings):
    user = expired_letter(letter[0], settings)
    response = run_action(console, "print_letters", [user])
    assert response["Content-Type"] == "application/pdf"
    user.refresh_from_db()
    assert user.is_active and user.deactivated_at is None and user.deactivation_reason == ""


def test_reset_makes_the_person_activate_again(console, parent):
    response = run_action(console, "reset_and_print_letters", [parent], confirm="yes")
    password = password_in(response)
    parent.refresh_from_db()
    assert parent.activated_at is None and parent.check_password(password)


# --- the activation dashboard ------------------------------------------------------------------


@pytest.fixture
def school(etab, division, pupil, parent, teacher, secretary, settings):
    """A small établissement with an account in every state (see the expected numbers below)."""
    sixth_b = Division.objects.create(etablissement=etab, year=2026, code="6B", label="6e B")
    long_ago = timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 3)

    def kid(name, klass, issued=None):
        user = make_user(name, Profile.ELEVE, etab, division=klass, password=None, activated=False)
        if issued is not None:
            issue_provisional_credentials([user], actor=None)
            User.objects.filter(pk=user.pk).update(credentials_issued_at=issued)
        return user

    def guardian(name, children, issued=None):
        user = make_user(name, Profile.RESPONSABLE, etab, password=None, activated=False)
        for child in children:
            Guardianship.objects.create(pupil=child.person, guardian=user.person, etablissement=etab, level=1)
        if issued is not None:
            issue_provisional_credentials([user], actor=None)
        return user

    pending = kid("p.pending", division, timezone.now())
    expired = kid("p.expired", division, long_ago)
    never = kid("p.never", sixth_b)
    no_account = Person.objects.create(first_name="Sans", last_name="COMPTE")
    Membership.objects.create(person=no_account, etablissement=etab, profile=Profile.ELEVE, division=sixth_b)
    guardian("r.pending", [pending], issued=True)
    guardian("r.two", [expired, never])
    Guardianship.objects.create(pupil=pending.person, guardian=teacher.person, etablissement=etab, level=3)  # contact only
    expire_accounts()
    return {"6A": division, "6B": sixth_b}


def counts(row) -> dict[str, int]:
    names = ("people", "accounts", "issued", "activated", "pending", "expired", "never", "without_account")
    return {name: getattr(row, name) for name in names}


def test_dashboard_numbers_per_profile(console, school, etab):
    response = console.get(reverse("admin:accounts_user_dashboard_etablissement", args=[etab.pk]))
    assert response.status_code == 200
    rows = {row.key: counts(row) for row in response.context["profiles"]}
    assert rows["eleves"] == {"people": 5, "accounts": 4, "issued": 2, "activated": 1, "pending": 1, "expired": 1, "never": 1, "without_account": 1}
    assert rows["parents"] == {"people": 3, "accounts": 3, "issued": 1, "activated": 1, "pending": 1, "expired": 0, "never": 1, "without_account": 0}
    assert rows["personnels"] == {"people": 2, "accounts": 2, "issued": 0, "activated": 2, "pending": 0, "expired": 0, "never": 0, "without_account": 0}
    assert rows["total"]["people"] == 10 and rows["total"]["activated"] == 4


def test_dashboard_numbers_per_class(console, school, etab):
    response = console.get(reverse("admin:accounts_user_dashboard_etablissement", args=[etab.pk]))
    by_class = {pupils.label: (counts(pupils), counts(parents)) for pupils, parents in response.context["divisions"]}
    pupils_a, parents_a = by_class["6e A"]
    assert (pupils_a["people"], pupils_a["activated"], pupils_a["pending"], pupils_a["expired"]) == (3, 1, 1, 1)
    assert (parents_a["people"], parents_a["activated"], parents_a["pending"], parents_a["never"]) == (3, 1, 1, 1)
    pupils_b, parents_b = by_class["6e B"]
    assert (pupils_b["people"], pupils_b["accounts"], pupils_b["never"], pupils_b["without_account"]) == (2, 1, 1, 1)
    assert (parents_b["people"], parents_b["never"]) == (1, 1)
    html = response.content.decode()
    assert 'id="activation-by-division"' in html and "6e A — élèves" in html and "<caption>" in html
    assert f"?classe={school['6A'].pk}" in html


def test_dashboard_queries_do_not_grow_with_the_school(console, school, etab):
    url = reverse("admin:accounts_user_dashboard_etablissement", args=[etab.pk])
    console.get(url)
    with CaptureQueriesContext(connection) as small:
        console.get(url)
    for code in ("5A", "5B", "4A"):
        klass = Division.objects.create(etablissement=etab, year=2026, code=code)
        for i in range(3):
            child = make_user(f"k.{code}.{i}", Profile.ELEVE, etab, division=klass, password=None, activated=False)
            mum = make_user(f"m.{code}.{i}", Profile.RESPONSABLE, etab, password=None, activated=False)
            Guardianship.objects.create(pupil=child.person, guardian=mum.person, etablissement=etab, level=1)
    with CaptureQueriesContext(connection) as large:
        console.get(url)
    assert len(large) == len(small)


def test_dashboard_is_scoped(client, school, etab, other_etab, other_secretary, superuser):
    client.force_login(other_secretary)
    assert client.get(reverse("admin:accounts_user_dashboard_etablissement", args=[etab.pk])).status_code == 404
    # One établissement in scope: the overview goes straight to it.
    response = client.get(reverse("admin:accounts_user_dashboard"))
    assert response["Location"] == reverse("admin:accounts_user_dashboard_etablissement", args=[other_etab.pk])
    client.force_login(superuser)
    response = client.get(reverse("admin:accounts_user_dashboard"))
    assert [row.label for row in response.context["rows"]] == [str(other_etab), str(etab)]
    assert {row.key: row.people for row in response.context["rows"]} == {other_etab.pk: 1, etab.pk: 10}


def test_dashboard_refused_outside_the_console(client, parent):
    client.force_login(parent)
    response = client.get(reverse("admin:accounts_user_dashboard"))
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_dashboard_is_linked_from_the_index_the_accounts_and_each_etablissement(console, etab):
    dashboard = reverse("admin:accounts_user_dashboard")
    assert dashboard in console.get(reverse("admin:index")).content.decode()
    assert dashboard in console.get(reverse("admin:accounts_user_changelist")).content.decode()
    page = console.get(reverse("admin:directory_etablissement_change", args=[etab.pk])).content.decode()
    assert reverse("admin:accounts_user_dashboard_etablissement", args=[etab.pk]) in page


# --- the charter in the console ---------------------------------------------------------------


def test_secretary_publishes_a_new_version(console, secretary, charter):
    add = reverse("admin:accounts_charter_add")
    page = console.get(add).content.decode()
    assert "Respectez les autres." in page  # prefilled with the current text
    now = timezone.localtime()
    response = console.post(add, {
        "title": "Charte 2027", "text": "Nouveau texte.",
        "published_at_0": now.strftime("%d/%m/%Y"), "published_at_1": now.strftime("%H:%M:%S"),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    new = Charter.objects.get(title="Charte 2027")
    assert new.version == 2 and new.created_by == secretary
    assert AuditEvent.objects.get(action="charter.published").detail["version"] == 2


def test_a_published_version_is_read_only(console, charter):
    response = console.post(reverse("admin:accounts_charter_change", args=[charter.pk]), {"title": "x", "text": "y"})
    assert response.status_code == 403
    charter.refresh_from_db()
    assert charter.title != "x"
    assert console.get(reverse("admin:accounts_charter_change", args=[charter.pk])).status_code == 200  # readable


def test_only_a_superuser_deletes_a_version_nobody_accepted(console, client, superuser, charter):
    unused = Charter.objects.create(version=5, title="brouillon", text="…", published_at=timezone.now() + DAY)
    assert console.post(reverse("admin:accounts_charter_delete", args=[unused.pk]), {"post": "yes"}).status_code == 403
    client.force_login(superuser)
    assert client.post(reverse("admin:accounts_charter_delete", args=[unused.pk]), {"post": "yes"}).status_code == 302
    assert not Charter.objects.filter(pk=unused.pk).exists()


def test_teachers_have_no_charter_screen(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse("admin:accounts_charter_changelist")).status_code == 302  # to the console login


def test_provisional_credentials_do_not_open_the_console(client, etab, charter):
    staff = make_user("anne.direction", Profile.DIRECTION, etab, is_staff=True, password=None, activated=False)
    [(staff, provisional)] = issue_provisional_credentials([staff], actor=None)
    response = client.post(reverse("admin:login"), {"username": staff.username, "password": provisional})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "activez d'abord votre compte" in response.content.decode().replace("&#x27;", "'")
