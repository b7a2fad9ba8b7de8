"""Benchmark of the school-record import (cartable.imports.service.run_import).

Generates realistic SIECLE / STS-web exports for N pupils (same elements as the samples,
ISO-8859-15, French names with accents, ~1.8 responsables per pupil, some without e-mail or
mobile, a staff file with services), then imports them into a fresh database, each import in its
own process, measuring wall seconds and peak memory (RSS).

    .venv/bin/python bench/import.py                       # 100k and 200k, SQLite and PostgreSQL
    .venv/bin/python bench/import.py --sizes 2000 --db sqlite
    .venv/bin/python bench/import.py --generate-only --sizes 100000

Results: bench/results/import.json (see bench/README.md). Generated files: bench/data/ (ignored
by git, reused when already there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
RESULTS = BENCH_DIR / "results" / "import.json"
UAI = "0999999X"
YEAR = 2026
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "cartable_bench"
GOAL = "100k < 30 s on each database; 200k ≤ 2.2× 100k"

FIRST_NAMES_F = [
    "Léa", "Chloé", "Manon", "Inès", "Jade", "Louise", "Zoé", "Léna", "Maëlle", "Anaïs", "Célia", "Solène",
    "Noémie", "Clémence", "Héloïse", "Maëlys", "Agathe", "Éloïse", "Océane", "Justine", "Camille", "Sarah",
    "Émilie", "Valérie", "Hélène", "Cécile", "Josiane", "Sophie", "Magali", "Virginie", "Aurélie", "Françoise",
]
FIRST_NAMES_M = [
    "Noé", "Aurélien", "Hugo", "Théo", "Lucas", "Mathéo", "Raphaël", "Gabriel", "Jérôme", "Grégory", "Benoît",
    "Hervé", "Loïc", "Gaël", "Maël", "Noël", "Joël", "Mickaël", "Frédéric", "Sébastien", "Stéphane", "Rémi",
    "Adrien", "Antoine", "Bastien", "Cédric", "Damien", "Élie", "Félix", "Ismaël", "Jérémy", "Timothée",
]
LAST_NAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
    "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
    "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEBVRE", "FAURE", "ANDRÉ",
    "MERCIER", "BLANC", "GUÉRIN", "BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA",
    "PERRIN", "ROBIN", "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
    "CŒUR", "BŒUF", "D'ARTAGNAN", "LE GOFF", "N'DIAYE", "DA SILVA", "SAINT-ÉLOI", "BÉRANGER", "CHÂTEAU", "PÉREZ",
]
LEVELS = [("6", "10010012110"), ("5", "10110001110"), ("4", "10210001110"), ("3", "10310019110")]
SUBJECTS = [
    ("020700", "FRANC", "Français"), ("061300", "MATHS", "Mathématiques"), ("030201", "AGL1", "Anglais lv1"),
    ("043700", "HI-GE", "Histoire-géographie"), ("100100", "EPS", "Education physique et sportive"),
    ("030602", "ESP2", "Espagnol lv2"), ("063700", "SVT", "Sciences de la vie et de la terre"),
    ("061800", "PH-CH", "Physique-chimie"), ("070200", "TECHN", "Technologie"), ("080100", "A-PLA", "Arts plastiques"),
]
CLASS_SIZE = 28


def _x(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")


def _email(first: str, last: str, n: int) -> str:
    import unicodedata

    def fold(s: str) -> str:
        s = s.replace("Œ", "OE").replace("œ", "oe")
        return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isalnum() and c.isascii()).lower()

    return f"{fold(first)}.{fold(last)}{n}@example.org"


def generate(n: int, out: Path, seed: int = 2026) -> dict[str, Path]:
    """Write the three exports for n pupils into `out` (skipped when already generated)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "eleves": out / "ElevesSansAdresses.xml",
        "responsables": out / "ResponsablesAvecAdresses.xml",
        "sts": out / f"sts_emp_{UAI}_{YEAR}.xml",
    }
    stamp = out / "complete"
    if stamp.exists() and all(p.exists() for p in paths.values()):
        return paths
    rng = random.Random(seed + n)
    n_divisions = max(4, -(-n // CLASS_SIZE))
    divisions = []  # (code, mef)
    for i in range(n_divisions):
        level, mef = LEVELS[i % 4]
        divisions.append((f"{level}{i // 4 + 1:04d}", mef))
    decl = '<?xml version="1.0" encoding="ISO-8859-15"?>\n'
    params = (
        f"  <PARAMETRES>\n    <UAJ>{UAI}</UAJ>\n    <ANNEE_SCOLAIRE>{YEAR}</ANNEE_SCOLAIRE>\n"
        f"    <DATE_EXPORT>05/10/{YEAR}</DATE_EXPORT>\n    <HORODATAGE>05/10/{YEAR} 09:41:27</HORODATAGE>\n"
        "  </PARAMETRES>\n"
    )

    # Families: mostly one child here, some siblings; 1 or 2 legal representatives, some contacts.
    pupils: list[tuple[str, str, str, str, str, str, str, bool]] = []  # id, first, last, sex, birth, class, MEF, latin
    families: list[tuple[list[str], list[tuple[str, str, str, str, str, int, str]]]] = []  # children, persons
    eleve_id, personne_id = 2_000_000, 5_000_000
    while len(pupils) < n:
        family_name = rng.choice(LAST_NAMES)
        kids = rng.choices((1, 2, 3), weights=(85, 13, 2))[0]
        children = []
        for _k in range(min(kids, n - len(pupils))):
            eleve_id += 1
            sex = rng.choice("12")
            first = rng.choice(FIRST_NAMES_M if sex == "1" else FIRST_NAMES_F)
            code, mef = divisions[len(pupils) * n_divisions // n]
            birth = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{2011 + int(code[0]) % 4}"
            pupils.append((str(eleve_id), first, family_name, sex, birth, code, mef, rng.random() < 0.1))
            children.append(str(eleve_id))
        persons = []
        legal = 2 if rng.random() < 0.9 else 1
        for k in range(legal):
            personne_id += 1
            mother = k == 0
            first = rng.choice(FIRST_NAMES_F if mother else FIRST_NAMES_M)
            maiden = rng.choice(LAST_NAMES) if mother and rng.random() < 0.5 else ""
            persons.append(
                (str(personne_id), "MME" if mother else "M.", maiden or family_name,
                 family_name if maiden else "", first, 1, "10" if mother else "20")
            )
        if rng.random() < 0.2:
            personne_id += 1
            persons.append((str(personne_id), "MME", rng.choice(LAST_NAMES), "", rng.choice(FIRST_NAMES_F), 3, "38"))
        families.append((children, persons))

    with paths["eleves"].open("w", encoding="iso-8859-15", newline="\n") as f:
        f.write(decl + '<BEE_ELEVES VERSION="3.0">\n' + params + "  <DONNEES>\n    <ELEVES>\n")
        for i, (eid, first, last, sex, birth, code, mef, _latin) in enumerate(pupils):
            second = f"        <PRENOM2>{rng.choice(FIRST_NAMES_F if sex == '2' else FIRST_NAMES_M)}</PRENOM2>\n" if i % 3 == 0 else ""
            f.write(
                f'      <ELEVE ELEVE_ID="{eid}" ELENOET="{i + 1}">\n'
                f"        <ID_NATIONAL>{int(eid) * 7 % 10**9:09d}{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}</ID_NATIONAL>\n"
                f"        <INE_RNIE>{int(eid) * 7 % 10**9:09d}{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}</INE_RNIE>\n"
                f"        <ELENOET>{i + 1}</ELENOET>\n        <ID_ELEVE_ETAB>{i + 1:05d}099999</ID_ELEVE_ETAB>\n"
                f"        <NOM_DE_FAMILLE>{_x(last)}</NOM_DE_FAMILLE>\n        <PRENOM>{first}</PRENOM>\n{second}"
                f"        <DATE_NAISS>{birth}</DATE_NAISS>\n        <DOUBLEMENT>0</DOUBLEMENT>\n"
                "        <CODE_PAYS>100</CODE_PAYS>\n        <ACCEPTE_SMS>0</ACCEPTE_SMS>\n"
                f"        <DATE_MODIFICATION>13/09/{YEAR}</DATE_MODIFICATION>\n        <CODE_REGIME>25</CODE_REGIME>\n"
                f"        <DATE_ENTREE>01/09/{YEAR}</DATE_ENTREE>\n        <VILLE_NAISS/>\n"
                f"        <CODE_SEXE>{sex}</CODE_SEXE>\n        <CODE_PAYS_NAT>100</CODE_PAYS_NAT>\n"
                f"        <CODE_STATUT>ST</CODE_STATUT>\n        <CODE_MEF>{mef}</CODE_MEF>\n"
                "        <CODE_DEPARTEMENT_NAISS>096</CODE_DEPARTEMENT_NAISS>\n"
                "        <CODE_COMMUNE_INSEE_NAISS>96101</CODE_COMMUNE_INSEE_NAISS>\n"
                "        <ADHESION_TRANSPORT>0</ADHESION_TRANSPORT>\n        <CODE_PROVENANCE>1</CODE_PROVENANCE>\n"
                "        <SCOLARITE_AN_DERNIER>\n          <CODE_MEF>10010012110</CODE_MEF>\n"
                f"          <CODE_STRUCTURE>{code}</CODE_STRUCTURE>\n          <CODE_RNE>{UAI}</CODE_RNE>\n"
                "          <SIGLE>CLG</SIGLE>\n          <DENOM_PRINC>COLLEGE</DENOM_PRINC>\n"
                "          <DENOM_COMPL>DES EXEMPLES FICTIFS</DENOM_COMPL>\n        </SCOLARITE_AN_DERNIER>\n"
                "      </ELEVE>\n"
            )
        f.write("    </ELEVES>\n    <OPTIONS>\n")
        for i, (eid, *_rest) in enumerate(pupils):
            f.write(
                f'      <OPTION ELEVE_ID="{eid}" ELENOET="{i + 1}">\n        <OPTIONS_ELEVE>\n'
                "          <NUM_OPTION>1</NUM_OPTION>\n          <CODE_MODALITE_ELECT>O</CODE_MODALITE_ELECT>\n"
                "          <CODE_MATIERE>030201</CODE_MATIERE>\n        </OPTIONS_ELEVE>\n      </OPTION>\n"
            )
        f.write("    </OPTIONS>\n    <STRUCTURES>\n")
        for i, (eid, _f, _l, _s, _b, code, _m, latin) in enumerate(pupils):
            group = (
                f"        <STRUCTURE>\n          <CODE_STRUCTURE>{code}_LATIN</CODE_STRUCTURE>\n"
                "          <TYPE_STRUCTURE>G</TYPE_STRUCTURE>\n        </STRUCTURE>\n"
                if latin
                else ""
            )
            f.write(
                f'      <STRUCTURES_ELEVE ELEVE_ID="{eid}" ELENOET="{i + 1}">\n        <STRUCTURE>\n'
                f"          <CODE_STRUCTURE>{code}</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n"
                f"        </STRUCTURE>\n{group}      </STRUCTURES_ELEVE>\n"
            )
        f.write("    </STRUCTURES>\n    <BOURSES/>\n  </DONNEES>\n</BEE_ELEVES>\n")

    with paths["responsables"].open("w", encoding="iso-8859-15", newline="\n") as f:
        f.write(decl + '<BEE_RESPONSABLES VERSION="2.1">\n' + params + "  <DONNEES>\n    <PERSONNES>\n")
        address = 9_000_000
        for _children, persons in families:
            address += 1
            for pid, civ, last, usage, first, _level, _parente in persons:
                mail = "" if rng.random() < 0.1 else _email(first, usage or last, int(pid) % 997)
                mobile = "" if rng.random() < 0.08 else f"        <TEL_PORTABLE>+33699{int(pid) % 1000000:06d}</TEL_PORTABLE>\n"
                usage_el = f"        <NOM_USAGE>{_x(usage)}</NOM_USAGE>\n" if usage else ""
                f.write(
                    f'      <PERSONNE PERSONNE_ID="{pid}">\n        <LC_CIVILITE>{civ}</LC_CIVILITE>\n'
                    f"        <LL_CIVILITE>{'MADAME' if civ == 'MME' else 'MONSIEUR'}</LL_CIVILITE>\n"
                    f"        <NOM_DE_FAMILLE>{_x(last)}</NOM_DE_FAMILLE>\n{usage_el}        <PRENOM>{first}</PRENOM>\n"
                    f"        <TEL_PERSONNEL></TEL_PERSONNEL>\n{mobile}        <ACCEPTE_SMS>1</ACCEPTE_SMS>\n"
                    f"        <TEL_PROFESSIONNEL/>\n        <MEL>{mail}</MEL>\n"
                    "        <COMMUNICATION_ADRESSE>0</COMMUNICATION_ADRESSE>\n"
                    f"        <ADRESSE_ID>{address}</ADRESSE_ID>\n        <CODE_PROFESSION>54</CODE_PROFESSION>\n"
                    "      </PERSONNE>\n"
                )
        f.write("    </PERSONNES>\n    <RESPONSABLES>\n")
        for children, persons in families:
            for eid in children:
                for rank, (person_id, _civ, _last, _usage, _first, resp_level, parente) in enumerate(persons):
                    f.write(
                        f"      <RESPONSABLE_ELEVE>\n        <ELEVE_ID>{eid}</ELEVE_ID>\n"
                        f"        <PERSONNE_ID>{person_id}</PERSONNE_ID>\n"
                        f"        <NIVEAU_RESPONSABILITE>{resp_level}</NIVEAU_RESPONSABILITE>\n"
                        f"        <CODE_PARENTE>{parente}</CODE_PARENTE>\n"
                        f"        <PAIE_FRAIS_SCOLAIRES>{1 if rank == 0 else 0}</PAIE_FRAIS_SCOLAIRES>\n"
                        f"        <PERCOIT_LES_AIDES>{'true' if rank == 0 else 'false'}</PERCOIT_LES_AIDES>\n"
                        f"        <HEBERGE_ELEVE>{'true' if resp_level == 1 else 'false'}</HEBERGE_ELEVE>\n"
                        f"        <A_CONTACTER_EN_PRIORITE>{'true' if rank == 0 else 'false'}</A_CONTACTER_EN_PRIORITE>\n"
                        "      </RESPONSABLE_ELEVE>\n"
                    )
        f.write("    </RESPONSABLES>\n    <ADRESSES>\n")
        for number in range(len(families)):
            f.write(
                f'      <ADRESSE ADRESSE_ID="{9_000_001 + number}">\n        <LIGNE1_ADRESSE>{number % 200 + 1} RUE DES ÉCOLES</LIGNE1_ADRESSE>\n'
                "        <LIGNE2_ADRESSE></LIGNE2_ADRESSE>\n        <CODE_POSTAL>96100</CODE_POSTAL>\n"
                "        <CODE_PAYS>100</CODE_PAYS>\n        <LL_PAYS>FRANCE</LL_PAYS>\n"
                "        <LIBELLE_POSTAL>FICTIVILLE</LIBELLE_POSTAL>\n      </ADRESSE>\n"
            )
        f.write("    </ADRESSES>\n  </DONNEES>\n</BEE_RESPONSABLES>\n")

    # Staff: one teacher per subject and 6 divisions, plus direction, CPE, secretaries, AED.
    staff = []  # (id, first, last, sex, function)
    sid = 10_000
    others = [("DIR", 2), ("EDU", 2), ("ADF", 2), ("AED", 4), ("DOC", 1)]
    scale = max(1, n // 700)
    for function, count in others:
        for _k in range(count * scale):
            sid += 1
            sex = rng.choice("12")
            staff.append((str(sid), rng.choice(FIRST_NAMES_M if sex == "1" else FIRST_NAMES_F), rng.choice(LAST_NAMES), sex, function))
    teacher_of: dict[tuple[int, str], str] = {}
    for d in range(0, n_divisions, 6):
        for subject, _short, _label in SUBJECTS:
            sid += 1
            sex = rng.choice("12")
            staff.append((str(sid), rng.choice(FIRST_NAMES_M if sex == "1" else FIRST_NAMES_F), rng.choice(LAST_NAMES), sex, "ENS"))
            for k in range(d, min(d + 6, n_divisions)):
                teacher_of[(k, subject)] = str(sid)
    with paths["sts"].open("w", encoding="iso-8859-15", newline="\n") as f:
        f.write(
            decl + "<STS_EDT>\n  <PARAMETRES>\n"
            f'    <UAJ CODE="{UAI}">\n      <ACADEMIE>\n        <CODE>99</CODE>\n        <LIBELLE>ACADEMIE FICTIVE</LIBELLE>\n'
            "      </ACADEMIE>\n      <SIGLE>CLG</SIGLE>\n      <DENOM_PRINC>COLLEGE</DENOM_PRINC>\n"
            "      <DENOM_COMPL>DES EXEMPLES FICTIFS</DENOM_COMPL>\n      <CODE_NATURE>340</CODE_NATURE>\n    </UAJ>\n"
            f'    <ANNEE_SCOLAIRE ANNEE="{YEAR}">\n      <DATE_DEBUT>{YEAR}-09-01</DATE_DEBUT>\n'
            f"      <DATE_FIN>{YEAR + 1}-08-31</DATE_FIN>\n    </ANNEE_SCOLAIRE>\n  </PARAMETRES>\n"
            "  <NOMENCLATURES>\n    <MATIERES>\n"
        )
        for code, short, label in SUBJECTS:
            f.write(
                f'      <MATIERE CODE="{code}">\n        <CODE_GESTION>{short}</CODE_GESTION>\n'
                f"        <LIBELLE_COURT>{label.upper()}</LIBELLE_COURT>\n        <LIBELLE_LONG>{label.upper()}</LIBELLE_LONG>\n"
                f"        <LIBELLE_EDITION>{label}</LIBELLE_EDITION>\n      </MATIERE>\n"
            )
        f.write("    </MATIERES>\n  </NOMENCLATURES>\n  <DONNEES>\n    <INDIVIDUS>\n")
        main: dict[str, list[str]] = {}
        for k in range(n_divisions):
            main.setdefault(teacher_of[(k, SUBJECTS[k % len(SUBJECTS)][0])], []).append(divisions[k][0])
        for s, first, last, sex, function in staff:
            pp = "".join(
                f"          <PROF_PRINC>\n            <CODE_STRUCTURE>{code}</CODE_STRUCTURE>\n"
                f"            <DATE_DEBUT>{YEAR}-09-01</DATE_DEBUT>\n            <DATE_FIN>{YEAR + 1}-08-31</DATE_FIN>\n"
                "          </PROF_PRINC>\n"
                for code in main.get(s, [])
            )
            pp = f"        <PROFS_PRINC>\n{pp}        </PROFS_PRINC>\n" if pp else ""
            f.write(
                f'      <INDIVIDU ID="{s}" TYPE="epp">\n        <SEXE>{sex}</SEXE>\n        <CIVILITE>{sex}</CIVILITE>\n'
                f"        <NOM_USAGE>{_x(last)}</NOM_USAGE>\n        <NOM_PATRONYMIQUE>{_x(last)}</NOM_PATRONYMIQUE>\n"
                f"        <PRENOM>{first}</PRENOM>\n        <DATE_NAISSANCE>19{rng.randint(60, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}</DATE_NAISSANCE>\n"
                f"        <GRADE>CERT. CL N</GRADE>\n        <FONCTION>{function}</FONCTION>\n{pp}      </INDIVIDU>\n"
            )
        f.write("    </INDIVIDUS>\n    <STRUCTURE>\n      <DIVISIONS>\n")
        for k, (code, mef) in enumerate(divisions):
            services = "".join(
                f'            <SERVICE CODE_MATIERE="{subject}" CODE_MOD_COURS="CG">\n              <ENSEIGNANTS>\n'
                f'                <ENSEIGNANT ID="{teacher_of[(k, subject)]}" TYPE="epp"/>\n'
                "              </ENSEIGNANTS>\n            </SERVICE>\n"
                for subject, _s, _l in SUBJECTS
            )
            f.write(
                f'        <DIVISION CODE="{code}">\n          <LIBELLE_LONG>{code[0]}e {code[1:]}</LIBELLE_LONG>\n'
                f"          <EFFECTIF_PREVU>{CLASS_SIZE}</EFFECTIF_PREVU>\n          <MEFS_APPARTENANCE>\n"
                f'            <MEF_APPARTENANCE CODE="{mef}"/>\n          </MEFS_APPARTENANCE>\n'
                f"          <SERVICES>\n{services}          </SERVICES>\n        </DIVISION>\n"
            )
        f.write("      </DIVISIONS>\n      <GROUPES>\n")
        latin_codes = sorted({code for (_e, _f, _l, _s, _b, code, _m, is_latin) in pupils if is_latin})
        for code in latin_codes:
            k = next(i for i, d in enumerate(divisions) if d[0] == code)
            f.write(
                f'        <GROUPE CODE="{code}_LATIN">\n          <LIBELLE_LONG>LATIN {code}</LIBELLE_LONG>\n'
                f'          <DIVISIONS_APPARTENANCE>\n            <DIVISION_APPARTENANCE CODE="{code}"/>\n'
                "          </DIVISIONS_APPARTENANCE>\n          <SERVICES>\n"
                '            <SERVICE CODE_MATIERE="020700" CODE_MOD_COURS="CG">\n              <ENSEIGNANTS>\n'
                f'                <ENSEIGNANT ID="{teacher_of[(k, "020700")]}" TYPE="epp"/>\n'
                "              </ENSEIGNANTS>\n            </SERVICE>\n          </SERVICES>\n        </GROUPE>\n"
            )
        f.write("      </GROUPES>\n    </STRUCTURE>\n  </DONNEES>\n</STS_EDT>\n")
    stamp.write_text(json.dumps({"pupils": n, "responsables": sum(len(p) for _c, p in families), "staff": len(staff)}))
    return paths


# --- measuring -----------------------------------------------------------------------------------


def _child(db_url: str, data_dir: Path) -> None:
    """Runs in the measured process: one import into the (migrated) database at db_url."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartable.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from cartable.directory.models import Etablissement
    from cartable.imports.service import run_import

    etab = Etablissement.objects.create(uai=UAI, name="Collège des Exemples", current_year=YEAR)
    files = sorted(p for p in data_dir.iterdir() if p.suffix == ".xml")
    server_cpu = _server_cpu_reader()
    server_before = server_cpu()
    started = time.perf_counter()
    run = run_import(etab, files)
    seconds = time.perf_counter() - started
    server_first = server_cpu()
    again = time.perf_counter()
    second = run_import(etab, files)
    second_seconds = time.perf_counter() - again
    server_second = server_cpu()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "status": run.status,
                "created": run.report.get("created"),
                "errors": run.report.get("errors"),
                "timings": run.report.get("timings"),
                "cpu": run.report.get("cpu"),
                "second_run_timings": second.report.get("timings"),
                "second_run_cpu": second.report.get("cpu"),
                "second_run_seconds": round(second_seconds, 2),
                # PostgreSQL: CPU seconds of the server process serving the import (None when
                # it is not on this machine), beside the importer's own (importer_cpu_s).
                "server_cpu_s": _difference(server_first, server_before),
                "second_run_server_cpu_s": _difference(server_second, server_first),
                "second_run_changes": sum(
                    sum(second.report.get(k, {}).values()) for k in ("created", "updated", "departed")
                ),
            }
        )
    )


def _server_cpu_reader():
    """A function returning the CPU seconds so far of this connection's PostgreSQL backend,
    read from /proc (the bench's server runs on the same machine); None otherwise."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat")

    def read() -> float | None:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return read


def _difference(after: float | None, before: float | None) -> float | None:
    return round(after - before, 1) if after is not None and before is not None else None


def _measure(argv: list[str], env: dict[str, str]) -> tuple[dict, float, float]:
    """Run argv in a subprocess; (its JSON output, wall seconds, peak RSS MiB).

    Each measured process is started through a small wrapper so that RUSAGE_CHILDREN, a
    high-water mark over all waited-for children, covers that one process only."""
    wrapper = (
        "import json, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout, "
        "'maxrss_kib': u.ru_maxrss, 'cpu_s': u.ru_utime + u.ru_stime}))\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - started
    info = json.loads(done.stdout)
    if info["rc"] != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"import failed (exit {info['rc']})")
    result = json.loads(info["out"].strip().splitlines()[-1])
    # CPU of the importer and its worker (both runs; the PostgreSQL server's is not counted):
    # a figure that the load of other sessions on a shared machine changes less than wall time.
    result["importer_cpu_s"] = round(info["cpu_s"], 1)
    return result, wall, info["maxrss_kib"] / 1024


def _migrate(db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0", "--skip-checks"], cwd=ROOT, env=env, check=True)


def _fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        path = workdir / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB
    _migrate(url)
    return url


def _machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "cpu_model": cpu,
        "platform": platform.platform(),
    }


def _label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,200000", help="pupil counts, comma-separated")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("DATABASE_URL", "DATA_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s]
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    data = {}
    for n in sizes:
        started = time.perf_counter()
        paths = generate(n, DATA_DIR / f"{n}")
        sizes_mb = {k: round(p.stat().st_size / 1024**2, 1) for k, p in paths.items()}
        print(f"{n} pupils: files ready in {time.perf_counter() - started:.1f} s {sizes_mb}", flush=True)
        data[n] = paths["eleves"].parent
    if args.generate_only:
        return

    figures: dict[str, float] = {}
    details: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="cartable-bench-") as tmp:
        for db in databases:
            for n in sizes:
                url = _fresh_database(db, Path(tmp))
                env = {**os.environ, "DATABASE_URL": url, "CARTABLE_VAR_DIR": tmp, "LOG_LEVEL": "ERROR"}
                load_before = os.getloadavg()[0]
                result, wall, rss = _measure(
                    [sys.executable, str(Path(__file__).resolve()), "--child", url, str(data[n])], env
                )
                result["load_average_before"] = round(load_before, 2)
                result["load_average_after"] = round(os.getloadavg()[0], 2)
                key = f"{db}_{_label(n)}"
                figures[f"{key}_s"] = result["seconds"]
                figures[f"{key}_peak_mib"] = round(rss, 1)
                details[key] = {**result, "process_wall_s": round(wall, 2)}
                server = f", server CPU {result['server_cpu_s']} s" if result.get("server_cpu_s") is not None else ""
                print(f"{key}: {result['seconds']} s, peak {rss:.0f} MiB, second run {result['second_run_seconds']} s "
                      f"({result['second_run_changes']} changes), importer CPU {result['importer_cpu_s']} s{server}, "
                      f"status {result['status']}, "
                      f"load {result['load_average_before']} -> {result['load_average_after']}", flush=True)

    baseline = {k: v for k, v in figures.items() if k.endswith("_100k_s")}
    ratios = []
    for db in databases:
        a, b = figures.get(f"{db}_100k_s"), figures.get(f"{db}_200k_s")
        if a and b:
            ratios.append(b / a)
    output = {
        "name": "import",
        "figures": figures,
        "baseline": baseline,
        "ratio": round(max(ratios), 2) if ratios else None,
        "goal": GOAL,
        "goal_met": (
            all(v < 30 for v in baseline.values()) and bool(ratios) and max(ratios) <= 2.2
            if baseline and ratios
            else None
        ),
        "details": details,
        "machine": _machine(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: output[k] for k in ("figures", "ratio", "goal_met")}, indent=2))


if __name__ == "__main__":
    main()
