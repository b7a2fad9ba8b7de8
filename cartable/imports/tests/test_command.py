"""manage.py import_school."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cartable.directory.models import Etablissement, Person
from cartable.imports.management.commands.import_school import etablissement_kind
from cartable.imports.models import ImportRun

from .conftest import ELEVES, STS

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_school", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_with_uai_prints_a_french_summary(etab, sample_files):
    output = run(*map(str, sample_files), "--uai", "0999999X")
    assert output.startswith("Import réussi : Collège des Exemples (0999999X), année 2026-2027")
    assert "Élèves : 30 créés, 0 mis à jour, 0 partis" in output
    assert "Responsables : 54 créés" in output
    assert "Comptes : 91 créés" in output
    assert Person.objects.count() == 92


def test_uai_read_from_the_files(etab, sample_files):
    run(*map(str, sample_files))
    assert ImportRun.objects.get().etablissement == etab


def test_dry_run_changes_nothing(etab, sample_files):
    output = run(*map(str, sample_files), "--dry-run")
    assert output.startswith("Essai à blanc (rien n'a été enregistré)")
    assert "Élèves : 30 créés" in output
    assert not Person.objects.exists()


def test_refused_import_exits_non_zero_with_the_reason(etab, variant):
    path = variant(ELEVES, {'<STRUCTURES_ELEVE ELEVE_ID="1990071"': '<STRICTURES_ELEVE ELEVE_ID="1990071"'})
    with pytest.raises(CommandError) as raised:
        run(str(path), "--uai", "0999999X")
    message = str(raised.value)
    assert message.startswith("Import refusé, rien n'a été enregistré :")
    assert "ElevesSansAdresses.xml, ligne" in message and "STRICTURES_ELEVE" in message
    assert not Person.objects.exists()


def test_wrong_uai(etab, sample_files, other_etab):
    with pytest.raises(CommandError, match="0999999X, pas de Collège Jean Moulin"):
        run(*map(str, sample_files), "--uai", "0371122U")


def test_unknown_etablissement_needs_create(db, sample_files):
    with pytest.raises(CommandError, match="--create"):
        run(*map(str, sample_files))


def test_create_from_sts(db, sample_files):
    output = run(*map(str, sample_files), "--create")
    etab = Etablissement.objects.get(uai="0999999X")
    assert (etab.name, etab.academie, etab.kind, etab.current_year) == (
        "COLLEGE DES EXEMPLES FICTIFS", "ACADEMIE FICTIVE", Etablissement.Kind.COLLEGE, 2026,
    )
    assert "établissement créé" in output


def test_create_from_siecle_only(db, samples_dir):
    run(str(samples_dir / ELEVES), "--create")
    assert Etablissement.objects.get().name == "Établissement 0999999X"


def test_create_dry_run_leaves_nothing(db, sample_files):
    run(*map(str, sample_files), "--create", "--dry-run")
    assert not Etablissement.objects.exists()


def test_create_refuses_an_invalid_uai(db, variant):
    path = variant(STS, {'<UAJ CODE="0999999X">': '<UAJ CODE="0371122A">'})
    with pytest.raises(CommandError, match="lettre de contrôle devrait être U"):
        run(str(path), "--create")


def test_csv_needs_uai(db, tmp_path):
    path = tmp_path / "ecole.csv"
    path.write_text("profil;id;nom;prenom\neleve;1;A;B\n")
    with pytest.raises(CommandError, match="précisez --uai"):
        run(str(path))


@pytest.mark.parametrize(
    ("sigle", "nature", "kind"),
    [("CLG", "340", "college"), ("LYC", "300", "lycee"), ("LP", "320", "lycee"), ("", "151", "ecole"),
     ("EPU", "", "ecole"), ("LPO", "306", "lycee"), ("LEGTA", "307", "lycee_agricole")],
)
def test_kind_from_sts(sigle, nature, kind):
    assert etablissement_kind(sigle, nature) == kind


def test_help_states_the_rules():
    from cartable.imports.management.commands.import_school import Command

    assert "tout ou rien" in Command.help and "jamais par leur nom" in Command.help
