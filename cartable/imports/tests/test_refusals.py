"""Files the importer refuses as a whole: nothing is written, and the report says where and why."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from cartable.accounts.models import User
from cartable.directory.models import Person
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import ELEVES, RESPONSABLES, STS, line_of, person_block, pupil_block

pytestmark = pytest.mark.django_db


def refused(etab, files) -> dict:
    run = run_import(etab, files)
    assert run.status == ImportRun.Status.FAILED
    assert not Person.objects.exists() and not User.objects.exists(), "nothing may be written"
    assert run.report["errors"]
    return run.report["errors"][0]


def test_malformed_xml_names_the_line(etab, samples_dir, variant):
    path = variant(ELEVES, {'<STRUCTURES_ELEVE ELEVE_ID="1990071"': '<STRICTURES_ELEVE ELEVE_ID="1990071"'})
    opened = line_of(path, "STRICTURES_ELEVE")
    closed = line_of(path, "</STRUCTURES_ELEVE>", occurrence=2)
    error = refused(etab, [samples_dir / STS, path, samples_dir / RESPONSABLES])
    assert error["file"] == ELEVES
    assert error["line"] == closed
    assert f"<STRICTURES_ELEVE> ouverte ligne {opened}" in error["message"]
    assert f"ligne {closed}" in error["text"]


def test_truncated_file(etab, variant):
    error = refused(etab, [variant(ELEVES, transform=lambda t: t[: len(t) // 2])])
    assert "tronqué" in error["message"]
    assert error["line"]


@pytest.mark.parametrize("content", [b"", b"   \n  "])
def test_empty_file(etab, tmp_path, content):
    path = tmp_path / ELEVES
    path.write_bytes(content)
    assert refused(etab, [path])["message"] == "Le fichier est vide."


def test_pdf_given_as_xml(etab, tmp_path):
    path = tmp_path / ELEVES
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n")
    assert "PDF" in refused(etab, [path])["message"]


def test_csv_given_as_xml(etab, tmp_path):
    path = tmp_path / ELEVES
    path.write_bytes("Nom élève;Prénom élève;Date naissance\nEXEMPLE;Léa;01/02/2016\n".encode("cp1252"))
    error = refused(etab, [path])
    assert "n'est pas un fichier XML" in error["message"]
    assert "Nom élève;Prénom élève" in error["message"]


def test_declared_utf8_but_latin1_bytes(etab, variant):
    path = variant(ELEVES, {'encoding="ISO-8859-15"': 'encoding="UTF-8"'})
    error = refused(etab, [path])
    assert "encodage déclaré (UTF-8)" in error["message"]
    assert error["line"] == line_of(path, "Aur")


def test_declared_latin9_but_utf8_bytes(etab, variant):
    """The classic mojibake: a UTF-8 file still declaring ISO-8859-15 ('AurÃ©lien')."""
    error = refused(etab, [variant(ELEVES, encoding="utf-8")])
    assert "encodé autrement" in error["message"]
    assert "AurÃ©lien" in error["message"]


def test_latin9_letters_survive(etab, variant, sample_text):
    block = pupil_block(sample_text(ELEVES), "1990038")
    path = variant(ELEVES, {block: block.replace("<NOM_DE_FAMILLE>EXEMPLE", "<NOM_DE_FAMILLE>BŒUF")})
    assert run_import(etab, [path]).status == ImportRun.Status.SUCCEEDED
    assert Person.objects.get(origin_id="1990038").last_name == "BŒUF"
    assert User.objects.get(person__origin_id="1990038").username == "aurelien.boeuf"


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE BEE_ELEVES [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<BEE_ELEVES VERSION="3.0"><PARAMETRES><UAJ>0999999X</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES>
<DONNEES><ELEVES><ELEVE ELEVE_ID="1"><NOM_DE_FAMILLE>&lol9;</NOM_DE_FAMILLE><PRENOM>A</PRENOM></ELEVE></ELEVES></DONNEES>
</BEE_ELEVES>
"""

XXE = """<?xml version="1.0" encoding="ISO-8859-15"?>
<!DOCTYPE BEE_ELEVES [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<BEE_ELEVES VERSION="3.0"><PARAMETRES><UAJ>0999999X</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES>
<DONNEES><ELEVES><ELEVE ELEVE_ID="1"><NOM_DE_FAMILLE>&xxe;</NOM_DE_FAMILLE><PRENOM>A</PRENOM></ELEVE></ELEVES></DONNEES>
</BEE_ELEVES>
"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_declarations_are_refused_fast(etab, tmp_path, document):
    path = tmp_path / ELEVES
    path.write_text(document, encoding="iso-8859-15")
    started = time.monotonic()
    error = refused(etab, [path])
    assert time.monotonic() - started < 2
    assert "DOCTYPE" in error["message"] and "sécurité" in error["message"]
    assert error["line"] == 2


def test_other_schools_export(etab, samples_dir, variant):
    path = variant(ELEVES, {"<UAJ>0999999X</UAJ>": "<UAJ>0371122U</UAJ>"})
    error = refused(etab, [samples_dir / STS, path, samples_dir / RESPONSABLES])
    assert error["message"].startswith("Ce fichier est l'export de l'établissement 0371122U, pas de Collège des Exemples (0999999X)")
    assert error["file"] == ELEVES and error["line"] == 4


def test_other_schools_sts(etab, variant):
    error = refused(etab, [variant(STS, {'<UAJ CODE="0999999X">': '<UAJ CODE="0371122U">'})])
    assert "0371122U" in error["message"]


def test_duplicate_eleve_id(etab, variant, sample_text):
    block = pupil_block(sample_text(ELEVES), "1990038")
    path = variant(ELEVES, {block: block + "\n      " + block}, count=1)
    error = refused(etab, [path])
    first, again = line_of(path, 'ELEVE_ID="1990038"'), line_of(path, 'ELEVE_ID="1990038"', 2)
    assert error["message"].startswith(f"ELEVE_ID 1990038 en double (lignes {first} et {again})")
    assert error["element"] == "ELEVE"


def test_duplicate_personne_id(etab, variant, sample_text):
    block = person_block(sample_text(RESPONSABLES), "990043")
    error = refused(etab, [variant(RESPONSABLES, {block: block + block}, count=1)])
    assert error["message"].startswith("PERSONNE_ID 990043 en double")


def test_duplicate_individu_id(etab, variant):
    error = refused(etab, [variant(STS, {'<INDIVIDU ID="9143"': '<INDIVIDU ID="9120"'})])
    assert error["message"].startswith("INDIVIDU ID 9120 en double")


def test_edt_sts_export_is_refused(etab, variant):
    error = refused(etab, [variant(STS, {"<STS_EDT>": "<EDT_STS>", "</STS_EDT>": "</EDT_STS>"})])
    assert "Index Éducation" in error["message"]


def test_unknown_root(etab, tmp_path):
    path = tmp_path / "x.xml"
    path.write_text('<?xml version="1.0"?><FACTURE/>')
    assert "<FACTURE>" in refused(etab, [path])["message"]


def test_two_files_of_the_same_kind(etab, samples_dir, variant):
    error = refused(etab, [samples_dir / ELEVES, variant(ELEVES, name="copie.xml")])
    assert "Deux fichiers de même sorte" in error["message"]


def test_every_refused_file_is_reported(etab, tmp_path, variant):
    empty = tmp_path / "vide.xml"
    empty.write_bytes(b"")
    truncated = variant(RESPONSABLES, transform=lambda t: t[:5000])
    run = run_import(etab, [empty, truncated])
    assert [e["file"] for e in run.report["errors"]] == ["vide.xml", RESPONSABLES]


def _zip(path, *members: tuple[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)


def test_zip_with_one_member(etab, tmp_path, samples_dir):
    path = tmp_path / "ElevesSansAdresses.zip"
    _zip(path, (ELEVES, (samples_dir / ELEVES).read_bytes()))
    run = run_import(etab, [path])
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.report["created"]["pupils"] == 30
    assert run.report["files"][0]["name"] == f"ElevesSansAdresses.zip ({ELEVES})"


def test_zip_with_two_members(etab, tmp_path, samples_dir):
    path = tmp_path / "exports.zip"
    _zip(path, (ELEVES, b"<a/>"), (STS, b"<b/>"))
    assert "un seul fichier" in refused(etab, [path])["message"]


def test_zip_bomb_is_capped(etab, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    path = tmp_path / "bombe.zip"
    _zip(path, (ELEVES, b'<?xml version="1.0"?><BEE_ELEVES>' + b" " * (20 * 1024 * 1024) + b"</BEE_ELEVES>"))
    assert path.stat().st_size < 100_000
    assert "taille maximale" in refused(etab, [path])["message"]


def test_zip_lying_about_its_size_is_capped(etab, tmp_path, settings):
    """The cap counts bytes actually inflated, not what the zip header announces."""
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    payload = b'<?xml version="1.0"?><BEE_ELEVES>' + b" " * (3 * 1024 * 1024) + b"</BEE_ELEVES>"
    buffer = io.BytesIO()
    _zip(buffer, (ELEVES, payload))
    data = bytearray(buffer.getvalue())
    # Patch the uncompressed size in both headers to a small lie.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = (1000).to_bytes(4, "little")
    path = tmp_path / "menteur.zip"
    path.write_bytes(bytes(data))
    error = refused(etab, [path])
    assert "taille maximale" in error["message"] or "corrompue" in error["message"]
