"""SIECLE exports: ElevesSansAdresses / ElevesAvecAdresses (BEE_ELEVES) and
ResponsablesAvecAdresses (BEE_RESPONSABLES). Formats: /work/shared/formats/SIECLE.md, §2-4.

The parsers stream the file (see safexml) and return rows; they never touch the database. A
problem that makes the whole file ambiguous (a duplicate id) is recorded as an error and the
service refuses the import; a problem with one row (no name) rejects that row only.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from cartable.directory.models import Relationship, Source
from cartable.lib.text import ascii_fold

from . import values as v
from .errors import ImportRefused, Report
from .records import MAX_LENGTHS, ElevesData, Header, LinkRow, PersonRow, PupilRow, ResponsablesData, cut
from .safexml import XmlDocument

HeaderCheck = Callable[[Header], None]

# Column widths, applied by slicing (a function call per value costs a second on a large file).
NAME_MAX = MAX_LENGTHS["last_name"]
OTHER_NAMES_MAX = MAX_LENGTHS["other_first_names"]
CIVILITY_MAX = MAX_LENGTHS["civility"]

ROOT_KINDS = {"BEE_ELEVES": "eleves", "BEE_RESPONSABLES": "responsables", "STS_EDT": "sts"}
INACTIVE_DIVISION = "inactifs"  # Pix ignores this pseudo-division of pupils who left
RELATIONSHIPS = frozenset(Relationship.values)


def kind_of(doc: XmlDocument) -> str:
    """The kind of export, from its root element (never from the file name)."""
    root = doc.root
    if root in ROOT_KINDS:
        return ROOT_KINDS[root]
    if root == "EDT_STS":
        raise ImportRefused(
            _(
                "Ce fichier (racine EDT_STS) est l'export du logiciel d'emploi du temps d'Index Éducation, "
                "pas celui de STS-web. Dans STS-web, utilisez « Exports > Emploi du temps » : le fichier "
                "s'appelle sts_emp_UAI_ANNEE.xml."
            ),
            file=doc.label,
            line=1,
            element=root,
        )
    if root in ("BEE_NOMENCLATURES", "BEE_STRUCTURES"):
        raise ImportRefused(
            _(
                "Ce fichier (%(root)s) n'est pas nécessaire : importez ElevesSansAdresses.xml, "
                "ResponsablesAvecAdresses.xml et sts_emp_UAI_ANNEE.xml."
            )
            % {"root": root},
            file=doc.label,
            line=1,
            element=root,
        )
    raise ImportRefused(
        _(
            "Fichier XML non reconnu (élément racine <%(root)s>). Sont acceptés : les exports SIECLE "
            "ElevesSansAdresses / ElevesAvecAdresses (BEE_ELEVES), ResponsablesAvecAdresses "
            "(BEE_RESPONSABLES) et l'export STS-web sts_emp (STS_EDT)."
        )
        % {"root": root},
        file=doc.label,
        line=1,
        element=root,
    )


def read_parameters(elem, kind: str, label: str) -> Header:
    """SIECLE PARAMETRES: UAJ as text, ANNEE_SCOLAIRE, and the root's VERSION."""
    children = {c.tag: c.text for c in elem}
    uaj = elem.find("UAJ")
    line = uaj.sourceline if uaj is not None else elem.sourceline
    header = Header(kind=kind, uai=v.text(children.get("UAJ")).upper(), line=line)
    header.version = elem.getroottree().getroot().get("VERSION") or ""
    year = v.text(children.get("ANNEE_SCOLAIRE"))
    if year.isdigit() and len(year) == 4:
        header.year = int(year)
    return header


def _missing_parameters(label: str) -> ImportRefused:
    return ImportRefused(
        _("Section PARAMETRES (UAJ, ANNEE_SCOLAIRE) absente ou placée après les données : fichier incomplet."),
        file=label,
        element="PARAMETRES",
    )


def _check_names(doc: XmlDocument, line: int, *names: str) -> None:
    if "".join(names).isascii():
        return
    for name in names:
        if name and doc.mojibake(name):
            raise ImportRefused(
                _(
                    "Le fichier déclare l'encodage %(encoding)s mais son contenu est encodé autrement "
                    "(« %(value)s » : caractères accentués mal décodés). Le fichier a sans doute été "
                    "ré-enregistré ; utilisez l'export d'origine."
                )
                % {"encoding": doc.encoding, "value": name},
                file=doc.label,
                line=line,
            )


def _duplicate(report: Report, label: str, element: str, attribute: str, key: str, first: int, again: int) -> None:
    report.error(
        ImportRefused(
            _("%(attribute)s %(key)s en double (lignes %(first)s et %(again)s) : les deux fiches sont ambiguës.")
            % {"attribute": attribute, "key": key, "first": first, "again": again},
            file=label,
            line=again,
            element=element,
        )
    )


def _date(report: Report, label: str, line: int, what: str, raw: str | None) -> datetime.date | None:
    value = v.french_date(raw)
    if value is False:
        report.warn(
            "bad_date",
            _("Dates illisibles (attendu JJ/MM/AAAA), laissées vides"),
            f"{label}, ligne {line} : {what} « {(raw or '').strip()} »",
        )
        return None
    return value  # type: ignore[return-value]


def _email(report: Report, label: str, line: int, raw: str | None) -> str:
    value = v.email(raw)
    if value is None:
        report.warn(
            "bad_email", _("Adresses électroniques invalides, laissées vides"), f"{label}, ligne {line} : « {raw} »"
        )
        return ""
    return cut("email", value)


def parse_eleves(doc: XmlDocument, report: Report, check_header: HeaderCheck) -> ElevesData:
    """BEE_ELEVES: pupils (ELEVE), joined with their class and groups (STRUCTURES_ELEVE)."""
    label = doc.label
    header: Header | None = None
    # eleve_id -> (line, values or None when rejected, MEF, DATE_SORTIE)
    pupils: dict[str, tuple[int, tuple | None, str, datetime.date | None]] = {}
    structures: dict[str, list[tuple[str, str]]] = {}
    structure_lines: dict[str, int] = {}
    today = timezone.localdate()
    strings: dict[str, str] = {}
    same = strings.setdefault  # one string object per distinct name or code (see parse_responsables)
    for elem in doc.iter(("PARAMETRES", "ELEVE", "STRUCTURES_ELEVE"), discard=("OPTION", "ADRESSE")):
        tag = elem.tag
        if tag == "ELEVE":
            if header is None:
                raise _missing_parameters(label)
            line = elem.sourceline
            eleve_id = (elem.get("ELEVE_ID") or "").strip()
            if not eleve_id:
                report.reject("pupils", "no_id", _("Élève sans ELEVE_ID"), f"{label}, ligne {line}")
                continue
            if eleve_id in pupils:
                _duplicate(report, label, "ELEVE", "ELEVE_ID", eleve_id, pupils[eleve_id][0], line)
                continue
            f = {c.tag: c.text for c in elem}
            last_name = v.text(f.get("NOM_DE_FAMILLE") or f.get("NOM"))
            first_name = v.text(f.get("PRENOM"))
            usage_name = v.text(f.get("NOM_USAGE"))
            _check_names(doc, line, last_name, first_name, usage_name)
            if not last_name or not first_name:
                report.reject(
                    "pupils", "no_name", _("Élèves sans nom ou sans prénom"), f"{label}, ligne {line} : ELEVE_ID {eleve_id}"
                )
                pupils[eleve_id] = (line, None, "", None)  # the id stays taken (duplicates)
                continue
            other = " ".join(x for x in (v.text(f.get("PRENOM2")), v.text(f.get("PRENOM3"))) if x)[:OTHER_NAMES_MAX]
            ine = v.ine(f.get("ID_NATIONAL")) or v.ine(f.get("INE_RNIE"))
            last_name, usage_name, first_name = last_name[:NAME_MAX], usage_name[:NAME_MAX], first_name[:NAME_MAX]
            values = (
                same(last_name, last_name),
                same(usage_name, usage_name),
                same(first_name, first_name),
                same(other, other),
                _date(report, label, line, "DATE_NAISS", f.get("DATE_NAISS")),
                v.sex(f.get("CODE_SEXE")),
                ine,
                _email(report, label, line, f.get("MEL")),
                v.phone(f.get("TEL_PORTABLE")),
                v.phone(f.get("TEL_PERSONNEL")),
                v.phone(f.get("TEL_PROFESSIONNEL")),
                bool(v.flag(f.get("ACCEPTE_SMS"))),
            )
            left_on = _date(report, label, line, "DATE_SORTIE", f.get("DATE_SORTIE"))
            mef = v.code(f.get("CODE_MEF"))[:11]
            pupils[eleve_id] = (line, values, same(mef, mef), left_on)
        elif tag == "STRUCTURES_ELEVE":
            eleve_id = (elem.get("ELEVE_ID") or "").strip()
            found = []
            for structure in elem.iterfind("STRUCTURE"):
                s = {c.tag: c.text for c in structure}
                code = v.code(s.get("CODE_STRUCTURE"))
                if code:
                    kind = v.code(s.get("TYPE_STRUCTURE")).upper()
                    found.append((same(code, code), same(kind, kind)))
            if eleve_id in structures:
                report.warn(
                    "structures_twice",
                    _("STRUCTURES_ELEVE répétées pour un même élève (réunies)"),
                    f"{label}, lignes {structure_lines[eleve_id]} et {elem.sourceline} : ELEVE_ID {eleve_id}",
                )
                structures[eleve_id].extend(found)
            else:
                structures[eleve_id] = found
                structure_lines[eleve_id] = elem.sourceline
        else:
            header = read_parameters(elem, "eleves", label)
            check_header(header)
    if header is None:
        raise _missing_parameters(label)

    data = ElevesData(header)
    for eleve_id, (line, pupil_values, mef_code, left_on) in pupils.items():
        if pupil_values is None:
            data.rejected_ids.add(eleve_id)
            continue
        found = structures.get(eleve_id, [])
        divisions = list(dict.fromkeys(c for c, t in found if t == "D" and c.lower() != INACTIVE_DIVISION))
        if len(divisions) > 1:
            report.reject(
                "pupils",
                "two_divisions",
                _("Élèves placés dans plusieurs classes (non importés, à corriger dans SIECLE)"),
                f"{label}, ligne {structure_lines.get(eleve_id, line)} : ELEVE_ID {eleve_id} ({', '.join(divisions)})",
            )
            data.rejected_ids.add(eleve_id)
            continue
        placed = bool(divisions)
        groups = tuple(dict.fromkeys(c for c, t in found if t == "G")) if placed else ()
        active = placed and not (left_on and left_on < today)
        data.pupils[eleve_id] = PupilRow(
            eleve_id, line, pupil_values, mef_code, left_on, divisions[0] if placed else "", groups, placed, active
        )
    unknown = [i for i in structures if i not in pupils]
    for eleve_id in unknown[:20]:
        report.warn(
            "structure_unknown_pupil",
            _("STRUCTURES_ELEVE d'un élève absent de la liste ELEVES (ignorées)"),
            f"{label}, ligne {structure_lines[eleve_id]} : ELEVE_ID {eleve_id}",
        )
    return data


CIVILITIES = {"MONSIEUR": "M.", "MADAME": "MME", "MADEMOISELLE": "MLLE"}


def parse_responsables(doc: XmlDocument, report: Report, check_header: HeaderCheck) -> ResponsablesData:
    """BEE_RESPONSABLES: persons (PERSONNE) and person-pupil links (RESPONSABLE_ELEVE)."""
    label = doc.label
    header: Header | None = None
    persons: dict[str, PersonRow] = {}
    links: dict[tuple[str, str], LinkRow] = {}
    # One string object per distinct name, civility, code and id: the XML parser makes a new one
    # for each occurrence. Fewer objects to keep, and to pickle back from a worker process
    # (measured on 100,000 pupils: 25 -> 20 MiB, the worker's dump 0.8 -> 0.4 s).
    strings: dict[str, str] = {}
    same = strings.setdefault
    for elem in doc.iter(("PARAMETRES", "PERSONNE", "RESPONSABLE_ELEVE"), discard=("ADRESSE",)):
        tag = elem.tag
        if tag == "RESPONSABLE_ELEVE":
            if header is None:
                raise _missing_parameters(label)
            line = elem.sourceline
            f = {c.tag: c.text for c in elem}
            eleve_id, personne_id = v.code(f.get("ELEVE_ID")), v.code(f.get("PERSONNE_ID"))
            if not eleve_id or not personne_id:
                report.reject(
                    "links", "incomplete", _("Liens sans ELEVE_ID ou sans PERSONNE_ID"), f"{label}, ligne {line}"
                )
                continue
            level = _level(f, report, label, line)
            relationship = v.code(f.get("CODE_PARENTE"))
            if relationship and relationship not in RELATIONSHIPS:
                report.warn(
                    "unknown_relationship",
                    _("CODE_PARENTE inconnus (lien de parenté laissé vide)"),
                    f"{label}, ligne {line} : « {relationship} »",
                )
                relationship = ""
            link = LinkRow(
                same(eleve_id, eleve_id),
                same(personne_id, personne_id),
                line,
                level,
                same(relationship, relationship),
                bool(v.flag(f.get("PAIE_FRAIS_SCOLAIRES"))),
                v.flag(f.get("HEBERGE_ELEVE")),
                v.flag(f.get("A_CONTACTER_EN_PRIORITE")),
            )
            key = (eleve_id, personne_id)
            if key in links:
                kept = links[key]
                report.warn(
                    "link_twice",
                    _("Liens élève–responsable répétés (le plus fort niveau de responsabilité est retenu)"),
                    f"{label}, lignes {kept.line} et {line} : ELEVE_ID {eleve_id}, PERSONNE_ID {personne_id}",
                )
                if link.level < kept.level:
                    links[key] = link
                continue
            links[key] = link
        elif tag == "PERSONNE":
            if header is None:
                raise _missing_parameters(label)
            line = elem.sourceline
            personne_id = (elem.get("PERSONNE_ID") or "").strip()
            if not personne_id:
                report.reject("responsables", "no_id", _("Personnes sans PERSONNE_ID"), f"{label}, ligne {line}")
                continue
            if personne_id in persons:
                _duplicate(report, label, "PERSONNE", "PERSONNE_ID", personne_id, persons[personne_id].line, line)
                continue
            personne_id = same(personne_id, personne_id)  # the links' PERSONNE_ID will be this object
            f = {c.tag: c.text for c in elem}
            last_name = v.text(f.get("NOM_DE_FAMILLE") or f.get("NOM"))
            first_name = v.text(f.get("PRENOM"))
            usage_name = v.text(f.get("NOM_USAGE"))
            _check_names(doc, line, last_name, first_name, usage_name)
            if not last_name or not first_name:
                report.reject(
                    "responsables",
                    "no_name",
                    _("Personnes sans nom ou sans prénom"),
                    f"{label}, ligne {line} : PERSONNE_ID {personne_id}",
                )
                persons[personne_id] = PersonRow(personne_id, line, None)  # type: ignore[arg-type]
                continue
            civility = v.text(f.get("LC_CIVILITE")) or CIVILITIES.get(v.text(f.get("LL_CIVILITE")).upper(), "")
            civility, last_name = civility[:CIVILITY_MAX], last_name[:NAME_MAX]
            usage_name, first_name = usage_name[:NAME_MAX], first_name[:NAME_MAX]
            persons[personne_id] = PersonRow(
                personne_id,
                line,
                (
                    same(civility, civility),
                    same(last_name, last_name),
                    same(usage_name, usage_name),
                    same(first_name, first_name),
                    _email(report, label, line, f.get("MEL")),
                    v.phone(f.get("TEL_PORTABLE")),
                    v.phone(f.get("TEL_PERSONNEL")),
                    v.phone(f.get("TEL_PROFESSIONNEL")),
                    bool(v.flag(f.get("ACCEPTE_SMS"))),
                ),
            )
        else:
            header = read_parameters(elem, "responsables", label)
            check_header(header)
    if header is None:
        raise _missing_parameters(label)
    data = ResponsablesData(header)
    for personne_id, row in persons.items():
        if row.values is None:
            data.rejected_ids.add(personne_id)
        else:
            data.persons[personne_id] = row
    data.links = list(links.values())
    warn_lookalikes(data.persons, report)
    return data


def warn_lookalikes(persons: dict[str, PersonRow], report: Report) -> None:
    """Same names and same phone or e-mail under two PERSONNE_IDs: probably one human twice.
    Reported for a person to merge (regroupement), never merged here. Linear: each
    (names, e-mail) and (names, mobile) is looked up once, never compared pairwise."""
    folded: dict[str, str] = {}  # names repeat a lot: fold each spelling once
    first_seen: dict[tuple[str, str], str] = {}
    reported: set[tuple[str, str]] = set()

    def fold(name: str) -> str:
        result = folded.get(name)
        if result is None:
            result = folded[name] = ascii_fold(name).lower()
        return result

    for personne_id, row in persons.items():
        _civ, last, _usage, first, email, mobile, *_rest = row.values
        if not email and not mobile:
            continue
        names = fold(last) + "|" + fold(first)
        for contact in (email.lower(), mobile):
            if not contact:
                continue
            other = first_seen.setdefault((names, contact), personne_id)
            if other != personne_id and (other, personne_id) not in reported:
                reported.add((other, personne_id))
                report.warn(
                    "lookalike",
                    _(
                        "Doublons probables (mêmes nom et prénom, même téléphone ou e-mail) : non fusionnés, "
                        "à regrouper à la main si c'est la même personne"
                    ),
                    f"PERSONNE_ID {other} et {personne_id} ({first} {last})",
                )


def _level(f: dict, report: Report, label: str, line: int) -> int:
    """NIVEAU_RESPONSABILITE (since 2018), else legacy RESP_LEGAL 1/2 = legal representative."""
    level = v.code(f.get("NIVEAU_RESPONSABILITE"))
    if level in ("1", "2", "3"):
        return int(level)
    legacy = v.code(f.get("RESP_LEGAL"))
    if legacy in ("1", "2"):
        return 1
    if legacy == "0":
        return 3
    report.warn(
        "no_level",
        _("Liens sans niveau de responsabilité (traités comme « personne à contacter » : pas de compte)"),
        f"{label}, ligne {line}",
    )
    return 3


PERSON_SOURCES = {"eleves": Source.SIECLE_ELEVE, "responsables": Source.SIECLE_PERSONNE}
