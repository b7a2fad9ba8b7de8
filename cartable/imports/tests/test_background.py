"""Large imports write in a background thread (bulk.write_phase): same result, same failures.

The samples are small, so the threshold is lowered; the result is compared with the ordinary
path, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from cartable.accounts.models import User
from cartable.directory.models import Membership, Person
from cartable.imports import bulk
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import ELEVES, dump, without_pupil

pytestmark = pytest.mark.django_db


def imported(etab, files) -> ImportRun:
    run = run_import(etab, files)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report["errors"]
    return run


def test_background_writes_give_the_same_directory(etab, sample_files, variant, samples_dir, monkeypatch):
    imported(etab, sample_files)
    foreground = dump()
    User.objects.all().delete()
    Person.objects.all().delete()
    monkeypatch.setattr("cartable.imports.service.BACKGROUND_FROM_PERSONS", 0)
    monkeypatch.setattr("cartable.imports.service.BACKGROUND_VENDORS", {"postgresql", "sqlite"})
    run = imported(etab, sample_files)
    assert run.report["created"]["accounts"] == 91
    background = dump()
    # Same rows but for the ids, which differ from one run to the other.
    for table in ("Person", "Membership", "Guardianship"):
        strip = lambda rows: sorted(  # noqa: E731
            (
                repr(sorted((k, v) for k, v in row.items() if k not in ("id", "person_id", "pupil_id", "guardian_id", "created_at", "updated_at")))
                for row in rows
            ),
        )
        assert strip(background[table]) == strip(foreground[table]), table
    assert sorted(u["username"] for u in background["User"]) == sorted(u["username"] for u in foreground["User"])
    # Idempotent, and departures, in the background too.
    assert not any(imported(etab, sample_files).report["updated"].values())
    run = imported(etab, [variant(ELEVES, transform=without_pupil("1990127"))])
    assert run.report["departed"]["pupils"] == 1
    assert Membership.objects.get(person__origin_id="1990127").departed_at


def test_a_failed_background_write_is_raised(db):
    with transaction.atomic():
        with pytest.raises(ZeroDivisionError):
            with bulk.write_phase(background=True):
                bulk._run(lambda cursor: 1 / 0)
                Person.objects.count()  # a query waits for the writes, and raises their failure


def test_ids_are_not_handed_out_twice(db):
    with transaction.atomic(), bulk.write_phase(background=True):
        bulk.reserve_ids(Person, 3)
        first = bulk.allocate_ids(Person, 2)
        second = bulk.allocate_ids(Person, 2)  # 1 left in reserve: fetched anew
        third = bulk.allocate_ids(Person, 1)
    assert len(set(first + second + third)) == 5
