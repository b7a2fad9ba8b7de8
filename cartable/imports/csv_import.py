"""The Cartable CSV format, for écoles and small cases (described in French in CSV.md).

Files are hand-made or exported from a spreadsheet, so every row error is reported with its line
and the whole import is refused: the person fixes the file and imports again, instead of ending up
with half a school.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from cartable.directory.models import Profile
from cartable.lib.phones import to_e164
from cartable.lib.text import ascii_fold

from . import values as v
from .errors import ImportRefused, Report
from .records import Header, cut
from .safexml import InputFile, max_bytes

COLUMNS = (
    "profil", "id", "nom", "nom_usage", "prenom", "date_naissance", "sexe", "classe", "email",
    "telephone_portable", "responsable_de",
)
REQUIRED = ("profil", "id", "nom", "prenom")
PROFILES = {
    "eleve": Profile.ELEVE,
    "responsable": Profile.RESPONSABLE,
    "parent": Profile.RESPONSABLE,
    "enseignant": Profile.ENSEIGNANT,
    "direction": Profile.DIRECTION,
    "vie_scolaire": Profile.VIE_SCOLAIRE,
    "secretariat": Profile.SECRETARIAT,
    "personnel": Profile.PERSONNEL,
    "collectivite": Profile.COLLECTIVITE,
    "invite": Profile.INVITE,
}
# Order of the person values (records.FIELDS[Source.CSV]).
CSV_FIELDS = ("last_name", "usage_name", "first_name", "birth_date", "sex", "email", "mobile")


@dataclass
class CsvPerson:
    origin_id: str
    line: int
    values: tuple
    # profile -> division codes (a pupil's class; a teacher's classes; empty for others)
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    children: tuple[str, ...] = ()  # responsable_de: pupils' ids


@dataclass
class CsvData:
    header: Header
    persons: dict[str, CsvPerson] = field(default_factory=dict)
    profiles: set[str] = field(default_factory=set)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", ascii_fold(name).lower()).strip("_")


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Windows-1252 (what French spreadsheets save by default)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "UTF-8"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "Windows-1252"


def parse_csv(inp: InputFile, report: Report) -> CsvData:
    label = inp.label
    with inp.open() as stream:
        raw = stream.read(max_bytes() + 1)
    try:
        content, encoding = decode(raw)
    except UnicodeDecodeError as exc:
        raise ImportRefused(_("Le fichier commence par une marque UTF-8 mais n'est pas en UTF-8."), file=label) from exc
    first_line = content.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header_row = next(reader)
    except StopIteration:
        raise ImportRefused(_("Le fichier est vide."), file=label) from None
    columns = [_key(c) for c in header_row]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportRefused(
            _("Colonnes obligatoires absentes de l'en-tête : %(missing)s (en-tête attendu : %(expected)s).")
            % {"missing": ", ".join(missing), "expected": ";".join(COLUMNS)},
            file=label,
            line=1,
        )
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        report.warn("csv_unknown_columns", _("Colonnes inconnues ignorées"), f"{label} : {', '.join(unknown)}")
    index = {name: columns.index(name) for name in COLUMNS if name in columns}
    data = CsvData(Header(kind="csv"))  # no UAI nor year in a CSV: the établissement's are used

    def error(line: int, message: str) -> None:
        report.error(ImportRefused(message, file=label, line=line))

    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            error(reader.line_num, _("Ligne illisible (%(detail)s).") % {"detail": exc})
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        profile = PROFILES.get(_key(cell("profil")))
        if profile is None:
            error(
                line,
                _("profil « %(value)s » inconnu (attendu : %(expected)s).")
                % {"value": cell("profil"), "expected": ", ".join(k for k in PROFILES if k != "parent")},
            )
            continue
        origin_id = cell("id")
        if not origin_id:
            error(line, _("la colonne id est vide : chaque personne doit avoir un identifiant stable."))
            continue
        last_name, first_name = v.text(cell("nom")), v.text(cell("prenom"))
        if not last_name or not first_name:
            error(line, _("nom ou prénom manquant."))
            continue
        birth = v.french_date(cell("date_naissance"))
        if birth is False:
            error(
                line,
                _("date de naissance « %(value)s » invalide (attendu JJ/MM/AAAA).") % {"value": cell("date_naissance")},
            )
            continue
        sex_raw = cell("sexe")
        sex = v.sex(sex_raw)
        if sex_raw and not sex:
            error(line, _("sexe « %(value)s » invalide (attendu M ou F).") % {"value": sex_raw})
            continue
        email = v.email(cell("email"))
        if email is None:
            error(line, _("adresse électronique « %(value)s » invalide.") % {"value": cell("email")})
            continue
        mobile_raw = cell("telephone_portable")
        mobile = to_e164(mobile_raw)
        if mobile_raw and not mobile:
            error(line, _("numéro de téléphone « %(value)s » invalide.") % {"value": mobile_raw})
            continue
        classes = tuple(dict.fromkeys(c.strip() for c in cell("classe").split("|") if c.strip()))
        if profile == Profile.ELEVE and len(classes) > 1:
            error(line, _("un élève n'a qu'une classe (ici : %(classes)s).") % {"classes": ", ".join(classes)})
            continue
        children = tuple(dict.fromkeys(c.strip() for c in cell("responsable_de").split("|") if c.strip()))
        if children and profile != Profile.RESPONSABLE:
            error(line, _("la colonne responsable_de ne vaut que pour le profil responsable."))
            continue
        values = (
            cut("last_name", last_name),
            cut("usage_name", v.text(cell("nom_usage"))),
            cut("first_name", first_name),
            birth,
            sex,
            email,
            mobile,
        )
        person = data.persons.get(origin_id)
        if person is None:
            person = data.persons[origin_id] = CsvPerson(origin_id, line, values)
        elif person.values != values:
            error(
                line,
                _(
                    "id « %(id)s » déjà utilisé ligne %(first)s pour une autre personne (une même personne sur "
                    "deux lignes doit y avoir exactement les mêmes nom, prénom, date de naissance, sexe, "
                    "adresse électronique et téléphone)."
                )
                % {"id": origin_id, "first": person.line},
            )
            continue
        if profile in person.profiles:
            error(
                line,
                _("id « %(id)s » en double (lignes %(first)s et %(again)s).")
                % {"id": origin_id, "first": person.line, "again": line},
            )
            continue
        person.profiles[profile] = classes if profile in (Profile.ELEVE, Profile.ENSEIGNANT) else ()
        if children:
            person.children = children
        data.profiles.add(profile)
    if not data.persons and not report.error_count:
        raise ImportRefused(_("Le fichier ne contient aucune ligne après l'en-tête."), file=label)
    data.header.version = encoding
    return data
