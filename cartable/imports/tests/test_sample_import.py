"""Importing the three sample exports: who ends up where, with which account."""

from __future__ import annotations

import pytest

from cartable.accounts.models import User
from cartable.directory.models import (
    Division,
    Group,
    Guardianship,
    Membership,
    Person,
    Profile,
    Source,
    Subject,
    Teaching,
)
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import ELEVES, RESPONSABLES, STS

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(etab, sample_files) -> ImportRun:
    run = run_import(etab, sample_files)
    assert run.status == ImportRun.Status.SUCCEEDED, run.report["errors"]
    return run


def person(source: str, origin_id: str) -> Person:
    return Person.objects.get(origin_source=source, origin_id=origin_id)


def test_report_counts(imported):
    report = imported.report
    assert report["created"] == {
        "pupils": 30, "responsables": 54, "staff": 8, "links": 58, "classes": 5, "accounts": 91,
    }
    for outcome in ("updated", "departed", "rejected"):
        assert not any(report[outcome].values()), outcome
    assert report["errors"] == []
    assert report["year"] == 2026
    assert [f["kind"] for f in report["files"]] == ["sts", "eleves", "responsables"]


def test_pupils_in_their_classes(imported, etab):
    pupils = Membership.objects.filter(etablissement=etab, profile=Profile.ELEVE)
    assert pupils.count() == 30
    per_class = {d.code: d.pupils.count() for d in Division.objects.filter(etablissement=etab, year=2026)}
    assert set(per_class) == {"6A", "5B", "4A", "3C"}
    assert all(7 <= n <= 8 for n in per_class.values()) and sum(per_class.values()) == 30
    aurelien = person(Source.SIECLE_ELEVE, "1990038")
    assert (aurelien.first_name, aurelien.last_name, aurelien.ine) == ("Aurélien", "EXEMPLE", "099996221FG")
    membership = aurelien.memberships.get()
    assert membership.division.code == "6A"
    assert membership.mef_code == "10010012110"
    assert [g.code for g in membership.groups.all()] == ["6A_LATIN"]
    latin = Group.objects.get(code="6A_LATIN")
    assert latin.label == "LATIN 6A"
    assert [d.code for d in latin.divisions.all()] == ["6A"]
    assert person(Source.SIECLE_ELEVE, "1990071").other_first_names == "Maïwenn"


def test_legal_representatives_and_contacts(imported, etab):
    responsables = Person.objects.filter(origin_source=Source.SIECLE_PERSONNE)
    assert responsables.count() == 54
    members = Membership.objects.filter(etablissement=etab, profile=Profile.RESPONSABLE)
    assert members.count() == 53
    # The grandparent is a contact: stored with the link, no membership, no account.
    grandparent = person(Source.SIECLE_PERSONNE, "990054")
    assert not grandparent.memberships.exists()
    assert not User.objects.filter(person=grandparent).exists()
    link = Guardianship.objects.get(guardian=grandparent)
    assert (link.level, link.relationship, link.is_legal) == (3, "38", False)
    assert link.pupil.origin_id == "1990151"


def test_siblings_share_parents(imported):
    mother, father = person(Source.SIECLE_PERSONNE, "990002"), person(Source.SIECLE_PERSONNE, "990003")
    for parent in (mother, father):
        children = {link.pupil.origin_id for link in parent.child_links.all()}
        assert children == {"1990038", "1990071"}
        assert User.objects.filter(person=parent).exists()
    assert (mother.usage_name, mother.last_name, mother.civility) == ("EXEMPLE", "MODELE", "MME")
    assert mother.email == father.email == "valerie.exemple95@example.org"  # a couple sharing one address
    assert mother.mobile == "+33699407510" and mother.accepts_sms
    assert mother.child_links.get(pupil__origin_id="1990038").pays_fees
    # The separated father of the SPECIMEN siblings does not house them.
    assert person(Source.SIECLE_PERSONNE, "990018").child_links.filter(lives_with=False).count() == 2
    assert person(Source.SIECLE_PERSONNE, "990043").email == ""
    assert person(Source.SIECLE_PERSONNE, "990045").mobile == ""


def test_staff_profiles_and_console_access(imported, etab):
    staff = {p.origin_id: p for p in Person.objects.filter(origin_source=Source.STS)}
    assert len(staff) == 8
    profiles = {
        origin_id: (m.profile, m.function)
        for origin_id, p in staff.items()
        for m in p.memberships.filter(etablissement=etab)
    }
    assert profiles["9120"] == (Profile.DIRECTION, "DIR")
    assert profiles["9143"] == (Profile.VIE_SCOLAIRE, "EDU")
    assert profiles["9158"] == (Profile.SECRETARIAT, "ADF")
    assert sorted(origin_id for origin_id, (profile, _f) in profiles.items() if profile == Profile.ENSEIGNANT) == [
        "9159", "9190", "9199", "9200", "9214",
    ]
    secretary = User.objects.get(person=staff["9158"])
    assert secretary.is_staff and not secretary.has_usable_password()
    assert secretary.username == "josiane.testeau"
    assert User.objects.get(person=staff["9120"]).is_staff
    assert not User.objects.get(person=staff["9159"]).is_staff
    assert staff["9120"].birth_date.isoformat() == "1968-10-15"
    assert (staff["9120"].civility, staff["9120"].sex) == ("MME", "F")


def test_teachers_classes_subjects_and_main_teachers(imported, etab):
    subjects = dict(Subject.objects.values_list("code", "label"))
    assert subjects["061300"] == "Mathématiques" and len(subjects) == 6
    maths = Person.objects.get(origin_source=Source.STS, origin_id="9190")
    taught = {(t.division.code, t.subject.code) for t in Teaching.objects.filter(teacher=maths)}
    assert taught == {(code, "061300") for code in ("6A", "5B", "4A", "3C")}
    history = Person.objects.get(origin_source=Source.STS, origin_id="9200")
    assert {t.subject.short_code for t in history.teachings.filter(division__code="3C")} == {"HI-GE", "EMC"}
    main = {d.code: [p.origin_id for p in d.main_teachers.all()] for d in Division.objects.filter(etablissement=etab)}
    assert main == {"6A": ["9159"], "4A": ["9190"], "5B": ["9200"], "3C": ["9214"]}


def test_identifiers_are_prenom_nom(imported):
    assert User.objects.get(person__origin_id="1990038").username == "aurelien.exemple"
    assert User.objects.get(person__origin_id="1990071").username == "celia.exemple"
    assert User.objects.filter(username="celia.specimen").exists()
    # Parents are named by usage name: Valérie MODELE, née…, known as EXEMPLE.
    assert User.objects.get(person__origin_id="990002").username == "valerie.exemple"


def test_files_in_any_order_and_separately(etab, samples_dir):
    """Responsables alone links to the pupils already imported."""
    assert run_import(etab, [samples_dir / ELEVES]).status == ImportRun.Status.SUCCEEDED
    run = run_import(etab, [samples_dir / RESPONSABLES])
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.report["created"]["responsables"] == 54
    assert run.report["created"]["links"] == 58
    run = run_import(etab, [samples_dir / STS])
    assert run.report["created"]["staff"] == 8
    assert Membership.objects.filter(profile=Profile.RESPONSABLE).count() == 53


def test_dry_run_writes_nothing_but_reports(etab, sample_files):
    run = run_import(etab, sample_files, dry_run=True)
    assert run.status == ImportRun.Status.DRY_RUN
    assert run.report["created"]["pupils"] == 30
    assert not Person.objects.exists() and not User.objects.exists()
    assert ImportRun.objects.get() == run


def test_progress_callback(etab, sample_files):
    calls = []
    run_import(etab, sample_files, progress=lambda step, done, total: calls.append((step, done, total)))
    assert calls[0][0] == "Lecture des fichiers"
    assert calls[-1][0] == "Terminé" and calls[-1][1] == calls[-1][2]


def test_import_run_records_actor_and_files(etab, sample_files, secretary):
    run = run_import(etab, sample_files, actor=secretary)
    assert run.started_by == secretary and run.finished_at
    assert [f["name"] for f in run.files] == [ELEVES, RESPONSABLES, STS]
