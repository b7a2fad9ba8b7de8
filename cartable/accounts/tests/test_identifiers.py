"""Identifiers: prenom.nom folded to ASCII, numbered from 2 when taken, and never changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cartable.accounts.identifiers import PART_MAX, base_identifier
from cartable.accounts.models import User
from cartable.accounts.services import create_accounts
from cartable.directory.models import Person


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Léa", "EXEMPLE", "lea.exemple"),
        ("Jean-Noël", "D'ARTAGNAN DE BAATZ", "jean-noel.d-artagnan-de-baatz"),
        ("Lætitia", "Œuvray", "laetitia.oeuvray"),
        ("Zoé", "N'Diaye", "zoe.n-diaye"),
        ("Zoé", "N’Diaye", "zoe.n-diaye"),  # typographic apostrophe: the same identifier
        ("  Anne   Marie ", "de la  Fontaine", "anne-marie.de-la-fontaine"),
        ("François", "Müller--Çelik", "francois.muller-celik"),
        ("Łukasz", "Søren", "lukasz.soren"),
        ("", "", "prenom.nom"),  # nothing usable: a placeholder, never an empty part
        ("李", "王", "prenom.nom"),
    ],
)
def test_base_identifier_folds_names(first, last, expected):
    assert base_identifier(first, last) == expected


def test_parts_are_capped():
    identifier = base_identifier("A" * 80, "Bé-" * 40)
    first, last = identifier.split(".")
    assert len(first) <= PART_MAX and len(last) <= PART_MAX
    assert not last.endswith("-")
    assert len(identifier) + len("1000") <= User._meta.get_field("username").max_length


def _people(count: int, first: str = "Martin", last: str = "Dupont") -> list[Person]:
    return Person.objects.bulk_create([Person(first_name=first, last_name=last) for _ in range(count)])


@pytest.mark.django_db
def test_thousand_namesakes_get_distinct_identifiers():
    users = create_accounts(_people(1000))
    names = [u.username for u in users]
    assert len(set(names)) == 1000
    assert set(names) == {"martin.dupont"} | {f"martin.dupont{n}" for n in range(2, 1001)}
    assert User.objects.filter(username__startswith="martin.dupont").count() == 1000


@pytest.mark.django_db
def test_namesakes_in_later_imports_continue_the_sequence():
    create_accounts(_people(3))
    later = create_accounts(_people(2))
    assert [u.username for u in later] == ["martin.dupont4", "martin.dupont5"]
    # A longer base that merely starts like this one is another identifier, not a suffix.
    (other,) = create_accounts(_people(1, last="Dupontel"))
    assert other.username == "martin.dupontel"


@pytest.mark.django_db
def test_create_accounts_is_idempotent():
    people = _people(2)
    assert len(create_accounts(people)) == 2
    assert create_accounts(people) == []
    assert User.objects.count() == 2


@pytest.mark.django_db
def test_new_accounts_have_no_usable_password():
    (user,) = create_accounts(_people(1))
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert user.credentials_issued_at is None and user.activated_at is None


def test_identifier_is_immutable(pupil):
    pupil.username = "autre.nom"
    with pytest.raises(ValidationError):
        pupil.save()
    assert User.objects.filter(username="lea.exemple").exists()
    assert not User.objects.filter(username="autre.nom").exists()


def test_other_fields_still_save(pupil):
    pupil.email = "lea@example.invalid"
    pupil.save()
    pupil.refresh_from_db()
    assert pupil.email == "lea@example.invalid"


def test_deleted_accounts_identifier_is_not_reused(db):
    from cartable.accounts.identifiers import IdentifierAllocator
    from cartable.accounts.models import AuditEvent

    AuditEvent.objects.create(action="account.deleted", target_username="lea.martin2")
    User.objects.create(username="lea.martin")
    assert IdentifierAllocator().allocate("Léa", "Martin") == "lea.martin3"
    assert IdentifierAllocator(preload_all=True).allocate("Léa", "Martin") == "lea.martin3"
