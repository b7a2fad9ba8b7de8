"""Staff console for the directory: a secretary sees and manages her own établissement only."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from django.urls import reverse

from cartable.accounts.models import AuditEvent, User
from cartable.conftest import PASSWORD, make_user
from cartable.directory.models import (
    Division,
    Etablissement,
    Guardianship,
    Membership,
    Person,
    Profile,
    Subject,
)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin", PASSWORD)


@pytest.fixture
def other_division(other_etab) -> Division:
    return Division.objects.create(etablissement=other_etab, year=2026, code="6B", label="6e B (Jean Moulin)")


@pytest.fixture
def stranger(other_etab, other_division) -> User:
    """A pupil of the other établissement, not yet activated."""
    return make_user(
        "hugo.ailleurs", Profile.ELEVE, other_etab, first_name="Hugo", last_name="AILLEURS",
        division=other_division, password=None, activated=False,
    )


@pytest.fixture
def console(client, secretary):
    client.force_login(secretary)
    return client


def url(name: str, *args: object) -> str:
    return reverse(f"admin:{name}", args=args)


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


# --- who gets in ---------------------------------------------------------------------------


def test_console_is_in_french_with_its_title(console):
    response = console.get(url("index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cartable — console de gestion" in body
    assert "Annuaire" in body and "Personnes" in body


def test_non_staff_is_refused(client, parent):
    client.force_login(parent)
    response = client.get(url("directory_person_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_an_etablissement_sees_nothing(client, etab):
    orphan = make_user("x.staff", Profile.ENSEIGNANT, etab, is_staff=True)
    client.force_login(orphan)
    assert client.get(url("directory_person_changelist")).status_code == 403
    assert "Personnes" not in client.get(url("index")).content.decode()


def test_departed_secretary_loses_the_console(console, secretary):
    Membership.objects.filter(person=secretary.person).update(departed_at="2026-09-01T00:00:00Z")
    assert console.get(url("directory_person_changelist")).status_code == 403


# --- lists and objects ---------------------------------------------------------------------


def test_secretary_lists_own_people_only(console, pupil, stranger):
    body = console.get(url("directory_person_changelist")).content.decode()
    assert "EXEMPLE" in body
    assert "AILLEURS" not in body


def test_superuser_sees_everyone(client, superuser, pupil, stranger):
    client.force_login(superuser)
    body = client.get(url("directory_person_changelist")).content.decode()
    assert "EXEMPLE" in body and "AILLEURS" in body
    assert client.get(url("directory_person_change", stranger.person.pk)).status_code == 200


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_etablissement_person_is_404(console, stranger, view):
    response = console.get(url(f"directory_person_{view}", stranger.person.pk))
    assert response.status_code == 404
    assert "AILLEURS" not in response.content.decode()


def test_posting_to_another_etablissement_changes_nothing(console, stranger):
    response = console.post(url("directory_person_change", stranger.person.pk), {"last_name": "PIRATE", "first_name": "X"})
    assert response.status_code == 404
    stranger.person.refresh_from_db()
    assert stranger.person.last_name == "AILLEURS"


def test_own_person_change_page(console, pupil):
    response = console.get(url("directory_person_change", pupil.person.pk))
    assert response.status_code == 200
    assert "lea.exemple" in response.content.decode()


def test_shared_person_shows_only_this_etablissement(console, teacher, other_etab):
    Membership.objects.create(person=teacher.person, etablissement=other_etab, profile=Profile.ENSEIGNANT)
    body = console.get(url("directory_person_change", teacher.person.pk)).content.decode()
    assert "Collège des Exemples" in body
    assert "Jean Moulin" not in body and "0371122U" not in body
    # …and she cannot delete a record another établissement also holds.
    assert console.get(url("directory_person_delete", teacher.person.pk)).status_code == 403


def test_bulk_delete_not_offered_on_people(console, pupil):
    body = console.get(url("directory_person_changelist")).content.decode()
    assert "delete_selected" not in body


@pytest.mark.parametrize(
    ("model", "obj"),
    [("division", "other_division"), ("etablissement", "other_etab")],
)
def test_other_etablissement_rows_are_404(console, request, model, obj):
    target = request.getfixturevalue(obj)
    assert console.get(url(f"directory_{model}_change", target.pk)).status_code == 404


def test_etablissement_screen(console, etab, other_etab):
    body = console.get(url("directory_etablissement_changelist")).content.decode()
    assert "Collège des Exemples" in body and "Jean Moulin" not in body
    assert console.get(url("directory_etablissement_add")).status_code == 403
    page = console.get(url("directory_etablissement_change", etab.pk)).content.decode()
    assert 'name="uai"' not in page and 'name="support_contact"' in page


def test_secretary_updates_own_support_contact(console, etab):
    data = {
        "name": etab.name, "ent_url": "https://ent.exemple.invalid", "support_contact": "01 02 03 04 05",
        "current_year": 2026, "address": "",
    }
    response = console.post(url("directory_etablissement_change", etab.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    etab.refresh_from_db()
    assert etab.support_contact == "01 02 03 04 05" and etab.uai == "0999999X"


def test_subjects_read_only_for_secretary(console, client, superuser):
    subject = Subject.objects.create(code="030201", label="ANGLAIS LV1")
    assert console.get(url("directory_subject_changelist")).status_code == 200
    page = console.get(url("directory_subject_change", subject.pk))
    assert page.status_code == 200 and 'name="label"' not in page.content.decode()
    assert console.post(url("directory_subject_change", subject.pk), {"code": "030201", "label": "X"}).status_code == 403
    assert console.get(url("directory_subject_add")).status_code == 403
    client.force_login(superuser)
    assert 'name="label"' in client.get(url("directory_subject_change", subject.pk)).content.decode()


# --- choices -------------------------------------------------------------------------------


def test_foreign_key_choices_are_scoped(console, etab, other_etab, division, other_division):
    body = console.get(url("directory_membership_add")).content.decode()
    assert "Collège des Exemples" in body and "Jean Moulin" not in body
    assert "6e A" in body and "6e B" not in body


def test_cannot_attach_to_another_etablissement(console, pupil, other_etab, other_division):
    data = {"person": pupil.person.pk, "etablissement": other_etab.pk, "profile": Profile.ELEVE, "division": other_division.pk}
    response = console.post(url("directory_membership_add"), data)
    assert response.status_code == 200  # the form again, with errors
    assert not Membership.objects.filter(etablissement=other_etab, person=pupil.person).exists()


def test_division_must_match_etablissement(client, superuser, pupil, etab, other_division):
    client.force_login(superuser)
    membership = Membership.objects.get(person=pupil.person)
    data = {"person": pupil.person.pk, "etablissement": etab.pk, "profile": Profile.ELEVE, "division": other_division.pk}
    response = client.post(url("directory_membership_change", membership.pk), data)
    assert "Cette classe appartient à un autre établissement" in response.content.decode()


def test_autocomplete_is_scoped(console, pupil, stranger):
    response = console.get(
        reverse("admin:autocomplete"),
        {"app_label": "directory", "model_name": "guardianship", "field_name": "pupil", "term": ""},
    )
    assert response.status_code == 200
    names = [r["text"] for r in response.json()["results"]]
    assert "Léa EXEMPLE" in names and "Hugo AILLEURS" not in names


def test_related_filters_list_own_values_only(console, pupil, stranger, other_division):
    body = console.get(url("directory_membership_changelist")).content.decode()
    assert "6e B" not in body and "Jean Moulin" not in body


def test_add_person_with_membership(console, etab, division):
    data = {
        "last_name": "NOUVEAU", "first_name": "Nora",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "1", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-etablissement": etab.pk, "memberships-0-profile": Profile.ELEVE,
        "memberships-0-division": division.pk,
        **_empty_inline("guardian_links"), **_empty_inline("child_links"),
    }
    response = console.post(url("directory_person_add"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Person.objects.get(last_name="NOUVEAU").memberships.get().etablissement == etab


def test_add_person_without_membership_refused(console, etab):
    data = {
        "last_name": "FANTOME", "first_name": "Fab",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "1", "memberships-MAX_NUM_FORMS": "1000",
        **_empty_inline("guardian_links"), **_empty_inline("child_links"),
    }
    response = console.post(url("directory_person_add"), data)
    assert response.status_code == 200
    assert not Person.objects.filter(last_name="FANTOME").exists()


def _empty_inline(prefix: str) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_create_missing_accounts_action(console, etab):
    person = Person.objects.create(first_name="Sans", last_name="COMPTE")
    Membership.objects.create(person=person, etablissement=etab, profile=Profile.ELEVE)
    response = console.post(
        url("directory_person_changelist"), {"action": "create_missing_accounts", "_selected_action": [person.pk]}
    )
    assert response.status_code == 302
    assert User.objects.get(person=person).username == "sans.compte"


# --- class letters -------------------------------------------------------------------------


@pytest.fixture
def class_6a(etab, division):
    """A pupil and her legal representative, neither activated; plus a contact (no letter)."""
    pupil = make_user("ines.neuve", Profile.ELEVE, etab, first_name="Inès", last_name="NEUVE", division=division, password=None, activated=False)
    mother = make_user("rose.neuve", Profile.RESPONSABLE, etab, first_name="Rose", last_name="NEUVE", password=None, activated=False)
    uncle = make_user("oncle.neuve", Profile.RESPONSABLE, etab, first_name="Oncle", last_name="NEUVE", password=None, activated=False)
    Guardianship.objects.create(pupil=pupil.person, guardian=mother.person, etablissement=etab, level=1)
    Guardianship.objects.create(pupil=pupil.person, guardian=uncle.person, etablissement=etab, level=3)
    return pupil, mother


def test_class_letters_ask_first(console, division, class_6a):
    response = console.post(url("directory_division_changelist"), {"action": "print_class_letters", "_selected_action": [division.pk]})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="audience"' in body and "Représentants légaux seulement" in body
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("audience", "expected"),
    [("both", {"ines.neuve", "rose.neuve"}), ("eleves", {"ines.neuve"}), ("parents", {"rose.neuve"})],
)
def test_class_letters_pdf(console, secretary, division, class_6a, pupil, parent, audience, expected):
    response = console.post(
        url("directory_division_changelist"),
        {"action": "print_class_letters", "_selected_action": [division.pk], "confirm": "yes", "audience": audience},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="lettres-0999999X-6a-')
    assert "no-store" in response["Cache-Control"]
    texts = pages(response.content)
    assert len(texts) == len(expected)
    printed = {username for username in ("ines.neuve", "rose.neuve", "oncle.neuve") if any(username in t for t in texts)}
    assert printed == expected
    events = AuditEvent.objects.filter(action="credentials.issued")
    assert {e.target_username for e in events} == expected
    assert all(e.actor == secretary and e.etablissement_uai == "0999999X" for e in events)


def test_class_letters_skip_activated(console, division, pupil, parent):
    response = console.post(
        url("directory_division_changelist"),
        {"action": "print_class_letters", "_selected_action": [division.pk], "confirm": "yes", "audience": "both"},
        follow=True,
    )
    assert response["Content-Type"].startswith("text/html")
    assert "2 comptes déjà activés ignorés" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_class_letters_of_another_etablissement_refused(console, other_division, stranger):
    response = console.post(
        url("directory_division_changelist"),
        {"action": "print_class_letters", "_selected_action": [other_division.pk], "confirm": "yes", "audience": "both"},
    )
    assert response.get("Content-Type") != "application/pdf"
    stranger.refresh_from_db()
    assert stranger.credentials_issued_at is None
    assert not AuditEvent.objects.exists()


def test_superuser_prints_any_class(client, superuser, other_division, stranger):
    client.force_login(superuser)
    response = client.post(
        url("directory_division_changelist"),
        {"action": "print_class_letters", "_selected_action": [other_division.pk], "confirm": "yes", "audience": "eleves"},
    )
    assert response["Content-Type"] == "application/pdf"
    (text,) = pages(response.content)
    assert "hugo.ailleurs" in text and "Collège Jean Moulin" in text


def test_etablissement_model_is_not_deletable_by_staff(console, etab):
    assert console.get(url("directory_etablissement_delete", etab.pk)).status_code == 403
    assert Etablissement.objects.filter(pk=etab.pk).exists()


# --- every screen renders ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["secretary", "superuser"])
def test_every_screen_renders(client, rf, request, who, pupil, parent, teacher, stranger):
    """Every registered screen's list, search, add and change pages answer without error."""
    from django.contrib import admin

    user = request.getfixturevalue(who)
    client.force_login(user)
    Subject.objects.create(code="030201", label="ANGLAIS LV1")
    AuditEvent.objects.create(action="credentials.issued", target_username="lea.exemple", etablissement_uai="0999999X")
    fake = rf.get("/")
    fake.user = user
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if not model_admin.has_module_permission(fake):
            # A superuser-only screen (OpenID Connect consents…): refused, not broken.
            assert client.get(reverse(f"{prefix}_changelist")).status_code == 403, prefix
            continue
        assert client.get(reverse(f"{prefix}_changelist")).status_code == 200, prefix
        assert client.get(reverse(f"{prefix}_changelist"), {"q": "e"}).status_code == 200, prefix
        names = {p.name for p in model_admin.urls if getattr(p, "name", None)}
        # A screen may be a list only (merging's "Doublons probables"): no add or change page.
        if f"{prefix.split(':')[1]}_add" in names:
            assert client.get(reverse(f"{prefix}_add")).status_code in (200, 403), prefix
        obj = model_admin.get_queryset(fake).first()
        if obj is not None and f"{prefix.split(':')[1]}_change" in names:
            assert client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200, prefix


def test_labels_are_french(console, parent):
    body = console.get(url("directory_guardianship_add")).content.decode()
    assert "Responsable" in body and "Élève" in body and "Établissement" in body
    assert "Guardian" not in body and "Pupil" not in body
    listing = console.get(url("directory_guardianship_changelist")).content.decode()
    headers = re.sub(r"<[^>]+>", " ", listing.split("<thead>")[-1].split("</thead>")[0])
    assert "Responsable" in headers and "Élève" in headers and "guardian" not in headers.lower()
