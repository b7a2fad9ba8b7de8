"""Importing again: nothing changes for the same files; changes, departures and returns are
applied and counted; nothing is ever deleted."""

from __future__ import annotations

import datetime

import pytest

from cartable.accounts.models import User
from cartable.directory.models import Guardianship, Membership, Person, Profile, Source
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import ELEVES, RESPONSABLES, STS, dump, person_block, pupil_block, without_pupil

pytestmark = pytest.mark.django_db


def ok(run: ImportRun) -> ImportRun:
    assert run.status == ImportRun.Status.SUCCEEDED, run.report["errors"]
    return run


def changes(run: ImportRun) -> dict[str, dict[str, int]]:
    """The non-zero figures of a report, by outcome."""
    return {
        outcome: {kind: n for kind, n in run.report[outcome].items() if n}
        for outcome in ("created", "updated", "departed", "returned")
        if any(run.report[outcome].values())
    }


def test_same_files_twice_change_nothing(etab, sample_files):
    ok(run_import(etab, sample_files))
    before = dump()
    second = ok(run_import(etab, sample_files))
    assert changes(second) == {}
    assert dump() == before


def test_changed_export_updates_only_what_changed(etab, sample_files, samples_dir, variant, sample_text):
    ok(run_import(etab, sample_files))
    eleves = sample_text(ELEVES)
    aurelien = pupil_block(eleves, "1990038")
    celia_structures = eleves[eleves.index('<STRUCTURES_ELEVE ELEVE_ID="1990071"') :]
    celia_structures = celia_structures[: celia_structures.index("</STRUCTURES_ELEVE>")]
    gregory = person_block(sample_text(RESPONSABLES), "990043")
    files = [
        samples_dir / STS,
        variant(ELEVES, {
            aurelien: aurelien.replace("<PRENOM>Aurélien</PRENOM>", "<PRENOM>Aurélio</PRENOM>"),  # renamed
            celia_structures: celia_structures.replace(">4A<", ">3C<"),  # changed class
        }),
        variant(RESPONSABLES, {gregory: gregory.replace("+33699194741", "06 99 00 11 22")}),  # new mobile
    ]
    run = ok(run_import(etab, files))
    assert changes(run) == {"updated": {"pupils": 2, "responsables": 1}}
    renamed = Person.objects.get(origin_source=Source.SIECLE_ELEVE, origin_id="1990038")
    assert renamed.first_name == "Aurélio"
    # The identifier never changes with the name.
    assert User.objects.get(person=renamed).username == "aurelien.exemple"
    celia = Membership.objects.get(person__origin_id="1990071", profile=Profile.ELEVE)
    assert celia.division.code == "3C"
    assert Person.objects.get(origin_id="990043").mobile == "+33699001122"
    # And once more: nothing left to change.
    assert changes(ok(run_import(etab, files))) == {}


def test_pupil_absent_from_new_export_departs_then_returns(etab, sample_files, samples_dir, variant):
    ok(run_import(etab, sample_files))
    # FACTICE Solène (1990127) is the only child of her single mother 990027.
    run = ok(run_import(etab, [variant(ELEVES, transform=without_pupil("1990127"))]))
    assert changes(run) == {"departed": {"pupils": 1, "responsables": 1}}
    pupil = Membership.objects.get(person__origin_id="1990127")
    mother = Membership.objects.get(person__origin_id="990027")
    assert pupil.departed_at and mother.departed_at
    # Never deleted: persons, accounts and links stay.
    assert User.objects.filter(person__origin_id__in=["1990127", "990027"]).count() == 2
    assert Guardianship.objects.filter(pupil__origin_id="1990127").exists()
    # Other pupils and their parents stay.
    assert Membership.objects.filter(departed_at__isnull=True).count() == 30 + 53 + 8 - 2

    run = ok(run_import(etab, [samples_dir / ELEVES]))
    assert changes(run) == {"returned": {"pupils": 1, "responsables": 1}}
    assert not Membership.objects.filter(departed_at__isnull=False).exists()


def test_past_date_de_sortie_departs(etab, sample_files, variant, sample_text):
    ok(run_import(etab, sample_files))
    block = pupil_block(sample_text(ELEVES), "1990127")
    left = block.replace("<DATE_ENTREE>", "<DATE_SORTIE>03/10/2026</DATE_SORTIE>\n        <DATE_ENTREE>")
    run = ok(run_import(etab, [variant(ELEVES, {block: left})]))
    assert run.report["departed"]["pupils"] == 1
    assert Membership.objects.get(person__origin_id="1990127").departed_at
    # A DATE_SORTIE still to come does not.
    later = block.replace("<DATE_ENTREE>", "<DATE_SORTIE>30/06/2099</DATE_SORTIE>\n        <DATE_ENTREE>")
    run = ok(run_import(etab, [variant(ELEVES, {block: later}, name="later.xml")]))
    assert run.report["returned"]["pupils"] == 1


def test_new_pupil_already_gone_or_unplaced_is_not_created(etab, variant, sample_text):
    eleves = sample_text(ELEVES)
    block = pupil_block(eleves, "1990127")
    left = block.replace("<DATE_ENTREE>", f"<DATE_SORTIE>{datetime.date(2026, 9, 30):%d/%m/%Y}</DATE_SORTIE><DATE_ENTREE>")
    run = ok(run_import(etab, [variant(ELEVES, {block: left}, transform=_unplace("1990142"))]))
    assert run.report["created"]["pupils"] == 28
    assert run.report["ignored"]["pupils"] == 2
    codes = {w["code"]: w for w in run.report["warnings"]}
    assert "ELEVE_ID 1990142" in codes["unplaced"]["examples"][0]
    assert not Person.objects.filter(origin_id__in=["1990127", "1990142"]).exists()


def _unplace(eleve_id: str):
    import re

    return lambda text: re.sub(rf'\s*<STRUCTURES_ELEVE ELEVE_ID="{eleve_id}".*?</STRUCTURES_ELEVE>', "", text, flags=re.S)


def test_inactifs_pseudo_division_means_not_placed(etab, sample_files, variant, sample_text):
    ok(run_import(etab, sample_files))
    eleves = sample_text(ELEVES)
    start = eleves.index('<STRUCTURES_ELEVE ELEVE_ID="1990127"')
    block = eleves[start : eleves.index("</STRUCTURES_ELEVE>", start)]
    run = ok(run_import(etab, [variant(ELEVES, {block: block.replace(">6A<", ">Inactifs<")})]))
    assert run.report["departed"]["pupils"] == 1
    assert not etab.divisions.filter(code="Inactifs").exists()


def test_staff_absent_from_new_sts_departs_and_loses_console(etab, sample_files, variant):
    import re

    ok(run_import(etab, sample_files))
    secretary = User.objects.get(person__origin_id="9158")
    assert secretary.is_staff
    sts = variant(STS, transform=lambda t: re.sub(r'\s*<INDIVIDU ID="9158".*?</INDIVIDU>', "", t, flags=re.S))
    run = ok(run_import(etab, [sts]))
    assert changes(run) == {"departed": {"staff": 1}}
    secretary.refresh_from_db()
    assert not secretary.is_staff
    assert Membership.objects.get(person=secretary.person).departed_at


def test_responsable_link_removed_from_export_is_deleted(etab, sample_files, variant):
    import re

    ok(run_import(etab, sample_files))
    # The grandparent's (contact) link disappears from SIECLE.
    pattern = r"\s*<RESPONSABLE_ELEVE>\s*<ELEVE_ID>1990151</ELEVE_ID>\s*<PERSONNE_ID>990054</PERSONNE_ID>.*?</RESPONSABLE_ELEVE>"
    run = ok(run_import(etab, [variant(RESPONSABLES, transform=lambda t: re.sub(pattern, "", t, flags=re.S))]))
    assert run.report["departed"]["links"] == 1
    assert not Guardianship.objects.filter(guardian__origin_id="990054").exists()
    assert Person.objects.filter(origin_id="990054").exists()


def test_contact_becoming_legal_representative_gets_account(etab, sample_files, variant, sample_text):
    ok(run_import(etab, sample_files))
    text = sample_text(RESPONSABLES)
    start = text.index("<PERSONNE_ID>990054</PERSONNE_ID>")
    block = text[start : text.index("</RESPONSABLE_ELEVE>", start)]
    run = ok(run_import(etab, [variant(RESPONSABLES, {block: block.replace(
        "<NIVEAU_RESPONSABILITE>3</NIVEAU_RESPONSABILITE>", "<NIVEAU_RESPONSABILITE>1</NIVEAU_RESPONSABILITE>"
    )})]))
    assert run.report["created"]["accounts"] == 1
    assert run.report["updated"]["links"] == 1
    assert User.objects.filter(person__origin_id="990054").exists()


def test_group_change_and_new_school_year(etab, sample_files, variant, sample_text):
    ok(run_import(etab, sample_files))
    eleves = sample_text(ELEVES)
    start = eleves.index('<STRUCTURES_ELEVE ELEVE_ID="1990038"')
    block = eleves[start : eleves.index("</STRUCTURES_ELEVE>", start)]
    latin = block[block.rindex("<STRUCTURE>", 0, block.index("6A_LATIN")) :]
    no_latin = variant(ELEVES, {block: block.replace(latin, "")})
    run = ok(run_import(etab, [no_latin]))
    assert changes(run) == {"updated": {"pupils": 1}}
    assert not Membership.objects.get(person__origin_id="1990038").groups.exists()
    assert Membership.objects.get(person__origin_id="1990127").groups.get().code == "6A_LATIN"

    # Next year's export: every pupil moves to next year's classes (the old ones stay).
    etab.current_year = 2027
    etab.save()
    next_year = variant(ELEVES, {"<ANNEE_SCOLAIRE>2026": "<ANNEE_SCOLAIRE>2027"}, name="2027.xml")
    run = ok(run_import(etab, [next_year]))
    assert changes(run) == {"updated": {"pupils": 30}, "created": {"classes": 5}}
    assert set(Membership.objects.filter(profile=Profile.ELEVE).values_list("division__year", flat=True)) == {2027}
    assert Membership.objects.get(person__origin_id="1990127").groups.get().year == 2027
    assert etab.divisions.filter(year=2026).count() == 4
