"""Staff console for accounts: scoped lists, no password hash, letter actions, read-only audit."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.contrib.auth import authenticate
from django.urls import reverse

from cartable.accounts.models import AuditEvent, User
from cartable.accounts.services import audit, issue_provisional_credentials
from cartable.conftest import PASSWORD, make_user
from cartable.directory.models import Membership, Profile


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin", PASSWORD)


@pytest.fixture
def console(client, secretary):
    client.force_login(secretary)
    return client


@pytest.fixture
def newcomer(etab, division) -> User:
    """An imported pupil account, never activated."""
    return make_user("nina.neuve", Profile.ELEVE, etab, first_name="Nina", last_name="NEUVE", division=division, password=None, activated=False)


@pytest.fixture
def stranger(other_etab) -> User:
    return make_user("hugo.ailleurs", Profile.ELEVE, other_etab, first_name="Hugo", last_name="AILLEURS", password=None, activated=False)


def url(name: str, *args: object) -> str:
    return reverse(f"admin:{name}", args=args)


def run_action(client, action: str, users: list[User], **extra: str):
    data = {"action": action, "_selected_action": [u.pk for u in users], **extra}
    return client.post(url("accounts_user_changelist"), data)


def pdf_pages(response) -> list[str]:
    assert response["Content-Type"] == "application/pdf", response.content[:500]
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages]


def password_on(text: str) -> str:
    lines = text.splitlines()
    start = lines.index("Mot de passe provisoire")
    return next(line for line in lines[start + 1 :] if len(line) >= 10 and " " not in line)


# --- lists and pages -----------------------------------------------------------------------


def test_secretary_lists_own_accounts_only(console, pupil, newcomer, stranger):
    body = console.get(url("accounts_user_changelist")).content.decode()
    assert "lea.exemple" in body and "nina.neuve" in body
    assert "hugo.ailleurs" not in body


def test_superuser_with_a_membership_here_is_out_of_reach(console, etab):
    boss = User.objects.create_superuser("root.exemple", PASSWORD)
    boss.person = make_user("tmp.x", Profile.DIRECTION, etab).person
    User.objects.filter(username="tmp.x").update(person=None)
    boss.save()
    assert "root.exemple" not in console.get(url("accounts_user_changelist")).content.decode()
    assert console.get(url("accounts_user_change", boss.pk)).status_code == 404


def test_superuser_lists_everyone(client, superuser, pupil, stranger):
    client.force_login(superuser)
    body = client.get(url("accounts_user_changelist")).content.decode()
    assert "lea.exemple" in body and "hugo.ailleurs" in body


def test_other_etablissement_account_is_404(console, stranger):
    for view in ("change", "history", "delete"):
        response = console.get(url(f"accounts_user_{view}", stranger.pk))
        assert response.status_code == 404
        assert "hugo.ailleurs" not in response.content.decode()


def test_change_page_hides_password_and_identifier_is_read_only(console, pupil):
    response = console.get(url("accounts_user_change", pupil.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "lea.exemple" in body
    assert 'name="username"' not in body
    assert 'name="password"' not in body
    assert "argon2" not in body and pupil.password not in body


def test_identifier_cannot_be_changed_through_the_console(console, pupil):
    response = console.post(url("accounts_user_change", pupil.pk), {"username": "pirate", "is_active": "on"})
    assert response.status_code == 302
    pupil.refresh_from_db()
    assert pupil.username == "lea.exemple"


def test_deactivating_an_account_is_audited(console, secretary, pupil):
    response = console.post(url("accounts_user_change", pupil.pk), {})  # is_active unchecked
    assert response.status_code == 302
    pupil.refresh_from_db()
    assert not pupil.is_active
    event = AuditEvent.objects.get(action="account.updated")
    assert event.actor == secretary and event.target_username == "lea.exemple"
    assert event.detail == {"fields": ["is_active"]} and event.etablissement_uai == "0999999X"


def test_colleague_console_account_is_read_only(console, etab):
    principal = make_user("jean.principal", Profile.DIRECTION, etab, is_staff=True)
    response = console.post(url("accounts_user_change", principal.pk), {})
    assert response.status_code == 403
    principal.refresh_from_db()
    assert principal.is_active


def test_no_add_or_delete_for_secretary(console, pupil):
    assert console.get(url("accounts_user_add")).status_code == 403
    assert console.get(url("accounts_user_delete", pupil.pk)).status_code == 403
    assert "delete_selected" not in console.get(url("accounts_user_changelist")).content.decode()


def test_status_filter(console, pupil, newcomer):
    issue_provisional_credentials([newcomer], actor=None)
    body = console.get(url("accounts_user_changelist"), {"etat": "waiting"}).content.decode()
    assert "nina.neuve" in body and "lea.exemple" not in body
    body = console.get(url("accounts_user_changelist"), {"etat": "active"}).content.decode()
    assert "lea.exemple" in body and "nina.neuve" not in body


# --- letter actions ------------------------------------------------------------------------


def test_print_letters_action_returns_pdf(console, secretary, pupil, newcomer):
    response = run_action(console, "print_letters", [pupil, newcomer])
    (text,) = pdf_pages(response)
    assert "nina.neuve" in text and "lea.exemple" not in text
    assert response["Content-Disposition"].startswith('attachment; filename="lettres-0999999X-')
    assert "no-store" in response["Cache-Control"]
    assert authenticate(username="nina.neuve", password=password_on(text)) is not None
    event = AuditEvent.objects.get(target_username="nina.neuve")
    assert (event.action, event.actor, event.etablissement_uai) == ("credentials.issued", secretary, "0999999X")
    pupil.refresh_from_db()
    assert pupil.is_activated  # activated accounts are skipped…
    messages = [m.message for m in console.get(url("accounts_user_changelist")).context["messages"]]
    assert any("1 compte déjà activé ignoré" in m for m in messages)  # …and counted


def test_print_letters_with_only_activated_accounts(console, pupil):
    response = run_action(console, "print_letters", [pupil])
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()


def test_reprinting_replaces_the_password(console, newcomer):
    first = password_on(pdf_pages(run_action(console, "print_letters", [newcomer]))[0])
    second = password_on(pdf_pages(run_action(console, "print_letters", [newcomer]))[0])
    assert first != second
    assert authenticate(username="nina.neuve", password=first) is None
    assert authenticate(username="nina.neuve", password=second) is not None


def test_secretary_cannot_print_for_another_etablissement(console, stranger, newcomer):
    response = run_action(console, "print_letters", [stranger])
    assert response.get("Content-Type") != "application/pdf"
    response = run_action(console, "reset_and_print_letters", [stranger], confirm="yes")
    assert response.get("Content-Type") != "application/pdf"
    # Mixed in with her own pupils, the stranger is still left out.
    (text,) = pdf_pages(run_action(console, "print_letters", [stranger, newcomer]))
    assert "hugo.ailleurs" not in text
    stranger.refresh_from_db()
    assert stranger.credentials_issued_at is None and not stranger.has_usable_password()
    assert not AuditEvent.objects.filter(target_username="hugo.ailleurs").exists()


def test_console_accounts_are_left_to_a_superuser(console, client, superuser, etab, secretary):
    principal = make_user("jean.principal", Profile.DIRECTION, etab, is_staff=True, activated=False, password=None)
    response = run_action(console, "reset_and_print_letters", [principal, secretary], confirm="yes")
    assert response.status_code == 302
    assert not AuditEvent.objects.exists()
    messages = [m.message for m in console.get(url("accounts_user_changelist")).context["messages"]]
    assert any("2 comptes de la console ignorés" in m for m in messages)
    client.force_login(superuser)
    (text,) = pdf_pages(run_action(client, "print_letters", [principal]))
    assert "jean.principal" in text


def test_reset_asks_for_confirmation(console, pupil):
    response = run_action(console, "reset_and_print_letters", [pupil])
    assert response.status_code == 200
    body = response.content.decode()
    assert "lea.exemple" in body and "cesse aussitôt de fonctionner" in body and 'name="confirm"' in body
    assert authenticate(username="lea.exemple", password=PASSWORD) is not None


def test_reset_and_print(console, secretary, pupil):
    response = run_action(console, "reset_and_print_letters", [pupil], confirm="yes")
    (text,) = pdf_pages(response)
    assert "lea.exemple" in text
    assert authenticate(username="lea.exemple", password=PASSWORD) is None
    assert authenticate(username="lea.exemple", password=password_on(text)) is not None
    pupil.refresh_from_db()
    assert not pupil.is_activated and pupil.password.startswith("argon2")
    assert AuditEvent.objects.get(action="account.reset").actor == secretary


def test_letter_shows_the_secretarys_etablissement(console, teacher, other_etab):
    Membership.objects.create(person=teacher.person, etablissement=other_etab, profile=Profile.ENSEIGNANT)
    (text,) = pdf_pages(run_action(console, "reset_and_print_letters", [teacher], confirm="yes"))
    assert "Collège des Exemples" in text and "Jean Moulin" not in text


# --- audit trail ---------------------------------------------------------------------------


@pytest.fixture
def events(pupil, stranger):
    audit("credentials.issued", actor=None, target=pupil, uai="0999999X")
    audit("credentials.issued", actor=None, target=stranger, uai="0371122U")
    return AuditEvent.objects.order_by("pk")


def test_audit_trail_scoped_and_read_only(console, events):
    mine, theirs = events
    body = console.get(url("accounts_auditevent_changelist")).content.decode()
    assert "lea.exemple" in body and "hugo.ailleurs" not in body
    assert console.get(url("accounts_auditevent_change", theirs.pk)).status_code == 404
    page = console.get(url("accounts_auditevent_change", mine.pk))
    assert page.status_code == 200 and 'name="action"' not in page.content.decode()
    assert console.post(url("accounts_auditevent_change", mine.pk), {"action": "x"}).status_code == 403
    assert console.get(url("accounts_auditevent_delete", mine.pk)).status_code == 403
    assert console.get(url("accounts_auditevent_add")).status_code == 403


def test_audit_trail_not_deletable_by_superuser(client, superuser, events):
    client.force_login(superuser)
    mine, theirs = events
    assert client.get(url("accounts_auditevent_change", theirs.pk)).status_code == 200
    assert client.get(url("accounts_auditevent_delete", mine.pk)).status_code == 403
    assert "delete_selected" not in client.get(url("accounts_auditevent_changelist")).content.decode()


def test_non_staff_refused(client, parent):
    client.force_login(parent)
    response = client.get(url("accounts_user_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    response = run_action(client, "print_letters", [parent])
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert not AuditEvent.objects.exists()
