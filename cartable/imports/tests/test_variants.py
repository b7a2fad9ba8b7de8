"""The variants of the formats (SIECLE.md): legacy fields, empty forms, unknown codes."""

from __future__ import annotations

import re

import pytest

from cartable.accounts.models import User
from cartable.directory.models import Guardianship, Membership, Person, Profile, Source
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import ELEVES, RESPONSABLES, STS, person_block, pupil_block

pytestmark = pytest.mark.django_db


def ok(run: ImportRun) -> ImportRun:
    assert run.status == ImportRun.Status.SUCCEEDED, run.report["errors"]
    return run


def warnings(run: ImportRun) -> dict[str, dict]:
    return {w["code"]: w for w in run.report["warnings"]}


def test_legacy_resp_legal(etab, samples_dir, variant):
    """Before 2018: RESP_LEGAL 1/2 = legal representative, 0 = other (here the grandparent)."""
    legacy = variant(RESPONSABLES, transform=lambda t: re.sub(
        r"<NIVEAU_RESPONSABILITE>(\d)</NIVEAU_RESPONSABILITE>",
        lambda m: "<RESP_LEGAL>0</RESP_LEGAL>" if m.group(1) == "3" else "<RESP_LEGAL>1</RESP_LEGAL>",
        t,
    ))
    assert "NIVEAU_RESPONSABILITE" not in legacy.read_bytes().decode("iso-8859-15")
    run = ok(run_import(etab, [samples_dir / ELEVES, legacy]))
    assert run.report["created"]["responsables"] == 54
    assert Membership.objects.filter(profile=Profile.RESPONSABLE).count() == 53
    assert not User.objects.filter(person__origin_id="990054").exists()
    assert Guardianship.objects.get(guardian__origin_id="990054").level == 3


def test_resp_legal_2_is_legal_too(etab, samples_dir, variant, sample_text):
    text = sample_text(RESPONSABLES)
    start = text.index("<PERSONNE_ID>990003</PERSONNE_ID>")
    block = text[start : text.index("</RESPONSABLE_ELEVE>", start)]
    legacy = block.replace("<NIVEAU_RESPONSABILITE>1</NIVEAU_RESPONSABILITE>", "<RESP_LEGAL>2</RESP_LEGAL>")
    ok(run_import(etab, [samples_dir / ELEVES, variant(RESPONSABLES, {block: legacy})]))
    assert Guardianship.objects.filter(guardian__origin_id="990003", level=1).count() == 2


def test_link_without_any_level_is_a_contact(etab, samples_dir, variant, sample_text):
    text = sample_text(RESPONSABLES)
    start = text.index("<PERSONNE_ID>990027</PERSONNE_ID>")
    block = text[start : text.index("</RESPONSABLE_ELEVE>", start)]
    bare = block.replace("<NIVEAU_RESPONSABILITE>1</NIVEAU_RESPONSABILITE>", "")
    run = ok(run_import(etab, [samples_dir / ELEVES, variant(RESPONSABLES, {block: bare})]))
    assert "no_level" in warnings(run)
    assert not User.objects.filter(person__origin_id="990027").exists()


def test_pre_2016_nom(etab, variant):
    """Before the 2016 change, one NOM element and no NOM_DE_FAMILLE / NOM_USAGE."""
    path = variant(ELEVES, {"NOM_DE_FAMILLE>": "NOM>"})
    ok(run_import(etab, [path]))
    assert Person.objects.get(origin_id="1990038").last_name == "EXEMPLE"
    resp = variant(RESPONSABLES, {"NOM_DE_FAMILLE>": "NOM>"}, transform=lambda t: re.sub(r"\s*<NOM_USAGE>[^<]*</NOM_USAGE>", "", t))
    ok(run_import(etab, [resp]))
    mother = Person.objects.get(origin_id="990002")
    assert (mother.last_name, mother.usage_name) == ("MODELE", "")


def test_empty_forms_and_padding(etab, variant, sample_text):
    block = pupil_block(sample_text(ELEVES), "1990038")
    padded = (
        block.replace("<PRENOM>Aurélien</PRENOM>", "<PRENOM>  Aurélien   Paul </PRENOM>")
        .replace("<NOM_DE_FAMILLE>EXEMPLE</NOM_DE_FAMILLE>", "<NOM_DE_FAMILLE>EXEMPLE  </NOM_DE_FAMILLE><NOM_USAGE/>")
        .replace("<CODE_SEXE>1</CODE_SEXE>", "<CODE_SEXE></CODE_SEXE>")
        .replace("<DATE_NAISS>02/09/2015</DATE_NAISS>", "<DATE_NAISS/>")
    )
    ok(run_import(etab, [variant(ELEVES, {block: padded})]))
    pupil = Person.objects.get(origin_id="1990038")
    assert (pupil.first_name, pupil.last_name, pupil.usage_name, pupil.sex, pupil.birth_date) == (
        "Aurélien Paul", "EXEMPLE", "", "", None,
    )


def test_ine_falls_back_to_ine_rnie(etab, variant, sample_text):
    block = pupil_block(sample_text(ELEVES), "1990038")
    ok(run_import(etab, [variant(ELEVES, {block: block.replace("<ID_NATIONAL>099996221FG</ID_NATIONAL>", "<ID_NATIONAL/>")})]))
    assert Person.objects.get(origin_id="1990038").ine == "099996221FG"


def test_bad_date_is_warned_not_fatal(etab, variant, sample_text):
    block = pupil_block(sample_text(ELEVES), "1990038")
    run = ok(run_import(etab, [variant(ELEVES, {block: block.replace("02/09/2015", "31/02/2015")})]))
    assert "DATE_NAISS « 31/02/2015 »" in warnings(run)["bad_date"]["examples"][0]
    assert Person.objects.get(origin_id="1990038").birth_date is None


def test_phones_in_every_form_become_e164(etab, samples_dir, variant, sample_text):
    block = person_block(sample_text(RESPONSABLES), "990002")
    changed = block.replace("+33699407510", "06 99 40 75 10").replace("+33199686270", "0033 1 99 68 62 70")
    ok(run_import(etab, [samples_dir / ELEVES, variant(RESPONSABLES, {block: changed})]))
    mother = Person.objects.get(origin_id="990002")
    assert (mother.mobile, mother.phone_home) == ("+33699407510", "+33199686270")


def test_pupil_without_name_is_rejected_not_fatal(etab, variant, sample_text):
    block = pupil_block(sample_text(ELEVES), "1990038")
    run = ok(run_import(etab, [variant(ELEVES, {block: block.replace("<PRENOM>Aurélien</PRENOM>", "<PRENOM/>")})]))
    assert run.report["rejected"]["pupils"] == 1
    assert run.report["created"]["pupils"] == 29
    assert "ELEVE_ID 1990038" in run.report["rejections"][0]["examples"][0]


def test_pupil_in_two_classes_is_rejected(etab, variant, sample_text):
    eleves = sample_text(ELEVES)
    start = eleves.index('<STRUCTURES_ELEVE ELEVE_ID="1990071"')
    block = eleves[start : eleves.index("</STRUCTURES_ELEVE>", start)]
    extra = block + "<STRUCTURE><CODE_STRUCTURE>3C</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>"
    run = ok(run_import(etab, [variant(ELEVES, {block: extra})]))
    assert run.report["rejected"]["pupils"] == 1
    assert "(4A, 3C)" in run.report["rejections"][0]["examples"][0]


def test_unknown_fonction_is_generic_staff_with_warning(etab, variant):
    path = variant(STS, {"<FONCTION>EDU</FONCTION>": "<FONCTION>COP</FONCTION>"})
    run = ok(run_import(etab, [path]))
    warning = warnings(run)["unknown_function"]
    assert warning["count"] == 1 and "« COP »" in warning["examples"][0]
    membership = Membership.objects.get(person__origin_id="9143")
    assert (membership.profile, membership.function) == (Profile.PERSONNEL, "COP")


@pytest.mark.parametrize(("code", "profile"), [("DOC", Profile.ENSEIGNANT), ("AED", Profile.VIE_SCOLAIRE), ("SUR", Profile.VIE_SCOLAIRE)])
def test_fonction_mapping(etab, variant, code, profile):
    ok(run_import(etab, [variant(STS, {"<FONCTION>EDU</FONCTION>": f"<FONCTION>{code}</FONCTION>"})]))
    assert Membership.objects.get(person__origin_id="9143").profile == profile


def test_fonction_change_moves_the_membership(etab, samples_dir, variant):
    ok(run_import(etab, [samples_dir / STS]))
    run = ok(run_import(etab, [variant(STS, {"<FONCTION>EDU</FONCTION>": "<FONCTION>DIR</FONCTION>"})]))
    assert run.report["updated"]["staff"] == 1 and run.report["departed"]["staff"] == 0
    cpe = Person.objects.get(origin_id="9143")
    assert list(cpe.memberships.current().values_list("profile", flat=True)) == [Profile.DIRECTION]
    assert User.objects.get(person=cpe).is_staff


def test_expired_main_teacher_mandate_is_ignored(etab, variant):
    path = variant(STS, {"<DATE_FIN>2027-08-31</DATE_FIN>\n          </PROF_PRINC>": "<DATE_FIN>2025-08-31</DATE_FIN>\n          </PROF_PRINC>"}, count=1)
    ok(run_import(etab, [path]))
    assert not etab.divisions.get(code="6A").main_teachers.exists()
    assert etab.divisions.get(code="4A").main_teachers.exists()


def test_other_school_year_is_a_warning(etab, samples_dir):
    etab.current_year = 2027
    etab.save()
    run = ok(run_import(etab, [samples_dir / ELEVES]))
    assert "2026-2027 au lieu de 2027-2028" in warnings(run)["other_year"]["examples"][0]
    # Classes belong to the file's year.
    assert set(etab.divisions.values_list("year", flat=True)) == {2026}


def test_files_of_different_years_are_refused(etab, samples_dir, variant):
    run = run_import(etab, [samples_dir / STS, variant(ELEVES, {"<ANNEE_SCOLAIRE>2026": "<ANNEE_SCOLAIRE>2025"})])
    assert run.status == ImportRun.Status.FAILED
    assert "même année scolaire" in run.report["errors"][0]["message"]


def test_lookalike_persons_are_reported_not_merged(etab, samples_dir, variant, sample_text):
    text = sample_text(RESPONSABLES)
    twin = person_block(text, "990043")
    # A second record of Grégory MAQUETTE (same mobile), as SIECLE sometimes holds.
    copy = twin.replace('PERSONNE_ID="990043"', 'PERSONNE_ID="990999"')
    path = variant(RESPONSABLES, {twin: twin + copy, "</RESPONSABLES>": (
        "<RESPONSABLE_ELEVE><ELEVE_ID>1990142</ELEVE_ID><PERSONNE_ID>990999</PERSONNE_ID>"
        "<NIVEAU_RESPONSABILITE>3</NIVEAU_RESPONSABILITE></RESPONSABLE_ELEVE></RESPONSABLES>"
    )}, count=1)
    run = ok(run_import(etab, [samples_dir / ELEVES, path]))
    assert warnings(run)["lookalike"]["examples"] == ["PERSONNE_ID 990043 et 990999 (Grégory MAQUETTE)"]
    assert Person.objects.filter(origin_source=Source.SIECLE_PERSONNE, last_name="MAQUETTE", first_name="Grégory").count() == 2
