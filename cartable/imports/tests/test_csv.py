"""The Cartable CSV format (CSV.md)."""

from __future__ import annotations

import pytest

from cartable.accounts.models import User
from cartable.directory.models import Guardianship, Membership, Person, Profile, Source, Teaching
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

pytestmark = pytest.mark.django_db

HEADER = "profil;id;nom;nom_usage;prenom;date_naissance;sexe;classe;email;telephone_portable;responsable_de"
ROWS = [
    "eleve;E001;MARTIN;;Léa;14/03/2016;F;CM1-A;;;",
    "eleve;E002;MARTIN;;Hugo;02/11/2018;M;CE1-B;;;",
    "responsable;R001;DURAND;MARTIN;Claire;;F;;claire.martin@example.org;06 99 00 11 22;E001|E002",
    "enseignant;P001;LEROY;;Paul;;M;CM1-A|CE1-B;paul.leroy@example.org;;",
    "direction;P002;BERNARD;;Anne;;F;;;;",
]


def write(tmp_path, lines: list[str], *, encoding: str = "utf-8", bom: bool = False, name: str = "ecole.csv"):
    path = tmp_path / name
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def ok(run: ImportRun) -> ImportRun:
    assert run.status == ImportRun.Status.SUCCEEDED, run.report["errors"]
    return run


@pytest.mark.parametrize(
    ("separator", "encoding", "bom"),
    [(";", "utf-8", False), (",", "utf-8", False), (";", "utf-8", True), (";", "cp1252", False)],
    ids=["semicolon", "comma", "bom", "windows-1252"],
)
def test_csv_school(etab, tmp_path, separator, encoding, bom):
    lines = [line.replace(";", separator) for line in [HEADER, *ROWS]]
    run = ok(run_import(etab, [write(tmp_path, lines, encoding=encoding, bom=bom)]))
    assert run.report["created"] == {
        "pupils": 2, "responsables": 1, "staff": 2, "links": 2, "classes": 2, "accounts": 5,
    }
    lea = Person.objects.get(origin_source=Source.CSV, origin_id="E001")
    assert (lea.first_name, lea.birth_date.isoformat(), lea.sex) == ("Léa", "2016-03-14", "F")
    assert lea.memberships.get().division.code == "CM1-A"
    claire = Person.objects.get(origin_id="R001")
    assert (claire.usage_name, claire.mobile) == ("MARTIN", "+33699001122")
    assert {g.pupil.origin_id for g in Guardianship.objects.filter(guardian=claire, level=1)} == {"E001", "E002"}
    assert User.objects.get(person=claire).username == "claire.martin"
    teacher = Person.objects.get(origin_id="P001")
    assert {t.division.code for t in Teaching.objects.filter(teacher=teacher)} == {"CM1-A", "CE1-B"}
    assert User.objects.get(person__origin_id="P002").is_staff
    assert etab.divisions.filter(year=etab.current_year).count() == 2
    # Idempotent, like the SIECLE import.
    second = ok(run_import(etab, [write(tmp_path, lines, encoding=encoding, bom=bom)]))
    assert not any(second.report["created"].values()) and not any(second.report["updated"].values())


def test_bad_lines_are_reported_with_their_number(etab, tmp_path):
    lines = [
        HEADER,
        *ROWS[:2],
        "eleve;E003;PETIT;;Jade;31/02/2016;F;CM1-A;;;",
        "eleve;;PETIT;;Noé;01/02/2016;M;CM1-A;;;",
        "professeur;P009;X;;Y;;;;;;",
        "eleve;E001;MARTIN;;Léa;14/03/2016;F;CM1-A;;;",
        "responsable;R002;DUPONT;;Marc;;M;;marc;;E404",
    ]
    run = run_import(etab, [write(tmp_path, lines)])
    assert run.status == ImportRun.Status.FAILED
    texts = [e["text"] for e in run.report["errors"]]
    assert texts[0] == "ecole.csv, ligne 4 : date de naissance « 31/02/2016 » invalide (attendu JJ/MM/AAAA)."
    assert texts[1].startswith("ecole.csv, ligne 5 : la colonne id est vide")
    assert texts[2].startswith("ecole.csv, ligne 6 : profil « professeur » inconnu")
    assert texts[3] == "ecole.csv, ligne 7 : id « E001 » en double (lignes 2 et 7)."
    assert texts[4] == "ecole.csv, ligne 8 : adresse électronique « marc » invalide."
    assert not Person.objects.exists()


def test_unknown_pupil_in_responsable_de(etab, tmp_path):
    run = run_import(etab, [write(tmp_path, [HEADER, "responsable;R1;DUPONT;;Marc;;M;;;;E404"])])
    assert run.status == ImportRun.Status.FAILED
    assert run.report["errors"][0]["text"] == (
        "ecole.csv, ligne 2 : responsable_de : aucun élève n'a l'id « E404 » (ni dans le fichier, ni déjà importé)."
    )
    assert not Person.objects.exists()


def test_missing_required_column(etab, tmp_path):
    run = run_import(etab, [write(tmp_path, ["profil;nom;prenom", "eleve;A;B"])])
    assert "Colonnes obligatoires absentes de l'en-tête : id" in run.report["errors"][0]["message"]


def test_only_profiles_in_the_file_can_depart(etab, tmp_path):
    ok(run_import(etab, [write(tmp_path, [HEADER, *ROWS])]))
    # A file of teachers only: pupils, parents and the head stay.
    run = ok(run_import(etab, [write(tmp_path, [HEADER, ROWS[3]], name="profs.csv")]))
    assert not any(run.report["departed"].values())
    assert not Membership.objects.filter(departed_at__isnull=False).exists()
    # A file with a head (another one): Anne, the former head, departs.
    new_head = "direction;P003;NOIR;;Eve;;F;;;;"
    run = ok(run_import(etab, [write(tmp_path, [HEADER, ROWS[3], new_head], name="direction.csv")]))
    assert run.report["departed"]["staff"] == 1
    assert Membership.objects.get(person__origin_id="P002").departed_at is not None
    assert not User.objects.get(person__origin_id="P002").is_staff
    # Pupils leave with a file of pupils; their parent loses the responsable profile with them.
    run = ok(run_import(etab, [write(tmp_path, [HEADER, ROWS[1]], name="eleves.csv")]))
    assert run.report["departed"]["pupils"] == 1


def test_a_person_with_two_profiles(etab, tmp_path):
    lines = [HEADER, ROWS[0], "enseignant;P1;MARTIN;;Julie;;F;CM1-A;;;", "responsable;P1;MARTIN;;Julie;;F;;;;E001"]
    ok(run_import(etab, [write(tmp_path, lines)]))
    julie = Person.objects.get(origin_id="P1")
    assert set(julie.memberships.values_list("profile", flat=True)) == {Profile.ENSEIGNANT, Profile.RESPONSABLE}
    assert User.objects.filter(person=julie).count() == 1


def test_thousand_homonyms_get_distinct_identifiers(etab, tmp_path):
    lines = [HEADER] + [f"eleve;E{i:04d};Dupont;;Martin;;M;CM1-A;;;" for i in range(1, 1001)]
    run = ok(run_import(etab, [write(tmp_path, lines)]))
    assert run.report["created"]["accounts"] == 1000
    usernames = list(User.objects.order_by("person__origin_id").values_list("username", flat=True))
    assert len(set(usernames)) == 1000
    assert usernames[:3] == ["martin.dupont", "martin.dupont2", "martin.dupont3"]
    assert usernames[-1] == "martin.dupont1000"


def test_homonyms_through_create_accounts_too(etab, tmp_path, monkeypatch):
    """Below the bulk threshold the import uses accounts.services.create_accounts."""
    monkeypatch.setattr("cartable.imports.service.FAST_ACCOUNTS_FROM", 10**9)
    User.objects.create_user("martin.dupont")  # already taken elsewhere
    lines = [HEADER] + [f"eleve;E{i};Dupont;;Martin;;M;CM1-A;;;" for i in range(1, 4)]
    ok(run_import(etab, [write(tmp_path, lines)]))
    assert sorted(User.objects.exclude(person=None).values_list("username", flat=True)) == [
        "martin.dupont2", "martin.dupont3", "martin.dupont4",
    ]
