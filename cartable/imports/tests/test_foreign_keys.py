"""The directory's foreign keys written per row by an import hold on both databases.

On PostgreSQL they are checked per statement by triggers (directory migration 0004, for the
import's speed) instead of per row: these tests show the same refusals as a declared foreign
key, for the ORM and for the importer's COPY alike. On SQLite the declared foreign keys are kept
and checked at COMMIT (Django's `check_constraints` stands in for it inside a test transaction).
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from cartable.accounts.models import User
from cartable.directory.models import (
    Division,
    Etablissement,
    Guardianship,
    Membership,
    Person,
    Profile,
    Source,
)
from cartable.imports import bulk

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def refused(write) -> None:
    """`write` must be refused as a foreign-key violation (and rolled back)."""
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            write()
            connection.check_constraints()  # SQLite: the deferred check, as COMMIT would run it


def person(etab: Etablissement, origin_id: str = "1") -> Person:
    return Person.objects.create(
        first_name="Léa", last_name="Martin", origin_etablissement=etab, origin_source=Source.SIECLE_ELEVE, origin_id=origin_id
    )


def test_rows_must_refer_to_existing_rows(etab):
    pupil = person(etab)
    refused(lambda: Membership.objects.create(person_id=MISSING, etablissement=etab, profile=Profile.ELEVE))
    refused(lambda: Membership.objects.create(person=pupil, etablissement_id=MISSING, profile=Profile.ELEVE))
    refused(
        lambda: Membership.objects.create(person=pupil, etablissement=etab, profile=Profile.ELEVE, division_id=MISSING)
    )
    refused(lambda: person(Etablissement(pk=MISSING), "2"))
    refused(lambda: Guardianship.objects.create(pupil=pupil, guardian_id=MISSING, etablissement=etab, level=1))
    refused(lambda: Guardianship.objects.create(pupil_id=MISSING, guardian=pupil, etablissement=etab, level=1))
    refused(lambda: Guardianship.objects.create(pupil=pupil, guardian=pupil, etablissement_id=MISSING, level=1))
    assert not Membership.objects.exists() and not Guardianship.objects.exists()


def test_the_importers_bulk_writes_are_checked(etab):
    pupil, parent = person(etab, "1"), person(etab, "2")

    def copy(guardian: int) -> None:
        with bulk.write_phase():
            bulk.insert_rows(
                Guardianship,
                ("pupil", "guardian", "etablissement", "level"),
                [(pupil.pk, parent.pk, etab.pk, 1), (parent.pk, guardian, etab.pk, 1)],
            )

    refused(lambda: copy(MISSING))
    with transaction.atomic():
        copy(pupil.pk)
    assert Guardianship.objects.count() == 2


def test_a_changed_reference_is_checked(etab):
    pupil = person(etab)
    membership = Membership.objects.create(person=pupil, etablissement=etab, profile=Profile.ELEVE)
    refused(lambda: Membership.objects.filter(pk=membership.pk).update(person_id=MISSING))
    refused(lambda: Membership.objects.filter(pk=membership.pk).update(etablissement_id=MISSING))
    other = person(etab, "2")
    Membership.objects.filter(pk=membership.pk).update(person=other)  # an existing person: accepted
    assert Membership.objects.get().person == other


def test_a_referenced_row_cannot_go_behind_djangos_back(etab):
    pupil = person(etab)
    division = Division.objects.create(etablissement=etab, year=2026, code="6A")
    Membership.objects.create(person=pupil, etablissement=etab, profile=Profile.ELEVE, division=division)
    for table, pk in (("directory_person", pupil.pk), ("directory_division", division.pk), ("directory_etablissement", etab.pk)):
        def delete(table: str = table, pk: int = pk) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608 - our own table names

        refused(delete)
    if connection.vendor == "postgresql":  # SQLite cannot change a rowid that is referred to either, but says nothing
        def renumber() -> None:
            with connection.cursor() as cursor:
                cursor.execute("UPDATE directory_person SET id = %s WHERE id = %s", [MISSING, pupil.pk])

        refused(renumber)
    # Django's own deletions (CASCADE, SET_NULL) still go through.
    division.delete()
    assert Membership.objects.get().division is None
    pupil.delete()
    assert not Membership.objects.exists()
    etab.delete()
    assert not Etablissement.objects.exists()


def test_an_account_must_belong_to_an_existing_person(etab):
    refused(lambda: User.objects.create(username="lea.martin", person_id=MISSING))
    owner = person(etab)
    User.objects.create(username="lea.martin", person=owner)

    def delete_owner() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM directory_person WHERE id = %s", [owner.pk])

    refused(delete_owner)
    assert User.objects.get().person == owner
