"""STS-web "Emploi du temps" export, sts_emp_UAI_ANNEE.xml (root STS_EDT): staff, subjects,
divisions and groups with their teaching services. Format: SIECLE.md §6.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from cartable.directory.models import Profile

from . import values as v
from .errors import ImportRefused, Report
from .records import Header, StaffRow, StructureRow, StsData, cut
from .safexml import XmlDocument
from .siecle import HeaderCheck, _check_names, _duplicate

# FONCTION -> (profile). Sources list ENS DIR EDU DOC COP ORI FIJ AED SUR; ADF (secretariat) is a
# guess from the samples. Anything else becomes generic staff, reported, never a failure.
FUNCTIONS = {
    "ENS": Profile.ENSEIGNANT,
    "DOC": Profile.ENSEIGNANT,
    "DIR": Profile.DIRECTION,
    "EDU": Profile.VIE_SCOLAIRE,
    "AED": Profile.VIE_SCOLAIRE,
    "SUR": Profile.VIE_SCOLAIRE,
    "ADF": Profile.SECRETARIAT,
}
CIVILITIES = {"1": "M.", "2": "MME", "3": "MLLE"}


def read_parameters(elem, label: str) -> Header:
    """STS PARAMETRES: UAJ is an attribute here (text in SIECLE), the year an attribute too."""
    header = Header(kind="sts", line=elem.sourceline)
    uaj = elem.find("UAJ")
    if uaj is not None:
        header.line = uaj.sourceline
        header.uai = v.text(uaj.get("CODE")).upper()
        f = {c.tag: c.text for c in uaj}
        header.name = " ".join(x for x in (v.text(f.get("DENOM_PRINC")), v.text(f.get("DENOM_COMPL"))) if x)
        header.sigle = v.text(f.get("SIGLE")).upper()
        header.nature = v.code(f.get("CODE_NATURE"))
        header.academie = v.text(uaj.findtext("ACADEMIE/LIBELLE"))
        header.address = " ".join(
            x for x in (v.text(f.get("ADRESSE")), v.text(f.get("CODE_POSTAL")), v.text(f.get("COMMUNE"))) if x
        )
    year = elem.find("ANNEE_SCOLAIRE")
    if year is not None:
        annee = v.code(year.get("ANNEE"))
        if annee.isdigit() and len(annee) == 4:
            header.year = int(annee)
    return header


def parse_sts(doc: XmlDocument, report: Report, check_header: HeaderCheck) -> StsData:
    label = doc.label
    header: Header | None = None
    data = StsData(Header("sts"))
    today = timezone.localdate()
    for elem in doc.iter(("PARAMETRES", "MATIERE", "INDIVIDU", "SUPPLEANT", "DIVISION", "GROUPE")):
        tag = elem.tag
        if tag == "PARAMETRES":
            header = data.header = read_parameters(elem, label)
            check_header(header)
            continue
        if header is None:
            raise ImportRefused(
                _("Section PARAMETRES (UAJ) absente ou placée après les données : fichier incomplet."),
                file=label,
                element="PARAMETRES",
            )
        line = elem.sourceline
        if tag == "MATIERE":
            code = v.code(elem.get("CODE"))
            if code:
                f = {c.tag: c.text for c in elem}
                text_label = v.text(f.get("LIBELLE_EDITION") or f.get("LIBELLE_LONG") or f.get("LIBELLE_COURT"))
                data.subjects[code] = (v.text(f.get("CODE_GESTION"))[:20], (text_label or code)[:200])
        elif tag in ("INDIVIDU", "SUPPLEANT"):
            _read_individu(elem, doc, data, report, today)
        elif tag == "DIVISION":
            code = v.code(elem.get("CODE"))
            if not code:
                report.reject("classes", "no_code", _("Divisions sans CODE"), f"{label}, ligne {line}")
                continue
            if code in data.divisions:
                _duplicate(report, label, "DIVISION", "DIVISION CODE", code, data.divisions[code].line, line)
                continue
            mefs = [v.code(m.get("CODE")) for m in elem.iterfind("MEFS_APPARTENANCE/MEF_APPARTENANCE")]
            data.divisions[code] = StructureRow(
                code, line, v.text(elem.findtext("LIBELLE_LONG"))[:200], mefs[0][:11] if len(mefs) == 1 else ""
            )
            _read_services(elem, "D", code, data)
        elif tag == "GROUPE":
            code = v.code(elem.get("CODE"))
            if not code:
                report.reject("classes", "no_code", _("Groupes sans CODE"), f"{label}, ligne {line}")
                continue
            if code in data.groups:
                _duplicate(report, label, "GROUPE", "GROUPE CODE", code, data.groups[code].line, line)
                continue
            divisions = tuple(
                dict.fromkeys(
                    c
                    for c in (
                        v.code(d.get("CODE")) for d in elem.iterfind("DIVISIONS_APPARTENANCE/DIVISION_APPARTENANCE")
                    )
                    if c
                )
            )
            data.groups[code] = StructureRow(code, line, v.text(elem.findtext("LIBELLE_LONG"))[:200], "", divisions)
            _read_services(elem, "G", code, data)
    if header is None:
        raise ImportRefused(
            _("Section PARAMETRES (UAJ) absente : ce n'est pas un export STS-web complet."),
            file=label,
            element="PARAMETRES",
        )
    return data


def _read_services(elem, kind: str, code: str, data: StsData) -> None:
    for service in elem.iterfind("SERVICES/SERVICE"):
        subject = v.code(service.get("CODE_MATIERE"))
        for teacher in service.iterfind("ENSEIGNANTS/ENSEIGNANT"):
            teacher_id = v.code(teacher.get("ID"))
            if teacher_id:
                data.services.add((teacher_id, kind, code, subject))


def _read_individu(elem, doc: XmlDocument, data: StsData, report: Report, today) -> None:
    label, line = doc.label, elem.sourceline
    staff_id = v.code(elem.get("ID"))
    if not staff_id:
        report.reject("staff", "no_id", _("Personnels sans ID"), f"{label}, ligne {line}")
        return
    if staff_id in data.staff or staff_id in data.rejected_ids:
        first = data.staff[staff_id].line if staff_id in data.staff else data.rejected_ids[staff_id]
        _duplicate(report, label, elem.tag, "INDIVIDU ID", staff_id, first, line)
        return
    f = {c.tag: c.text for c in elem}
    patronymic = v.text(f.get("NOM_PATRONYMIQUE"))
    usage = v.text(f.get("NOM_USAGE"))
    first_name = v.text(f.get("PRENOM"))
    last_name = patronymic or usage
    _check_names(doc, line, last_name, usage, first_name)
    if not last_name or not first_name:
        report.reject("staff", "no_name", _("Personnels sans nom ou sans prénom"), f"{label}, ligne {line} : ID {staff_id}")
        data.rejected_ids[staff_id] = line
        return
    birth = v.iso_date(f.get("DATE_NAISSANCE"))
    if birth is False:
        report.warn(
            "bad_date",
            _("Dates illisibles, laissées vides"),
            f"{label}, ligne {line} : DATE_NAISSANCE « {f.get('DATE_NAISSANCE')} »",
        )
        birth = None
    function = v.code(f.get("FONCTION")).upper()
    profile = FUNCTIONS.get(function)
    if profile is None:
        profile = Profile.PERSONNEL
        report.warn(
            "unknown_function",
            _("FONCTION non reconnue : importé comme « Autre personnel de l'établissement »"),
            f"{label}, ligne {line} : {first_name} {usage or last_name} (FONCTION « {function or '—'} »)",
        )
    data.staff[staff_id] = StaffRow(
        staff_id,
        line,
        (
            CIVILITIES.get(v.code(f.get("CIVILITE")), ""),
            cut("last_name", last_name),
            cut("usage_name", usage if usage != last_name else ""),
            cut("first_name", first_name),
            birth,
            v.sex(f.get("SEXE")),
        ),
        profile=profile,
        function=function[:20],
    )
    for mandate in elem.iterfind("PROFS_PRINC/PROF_PRINC"):
        m = {c.tag: c.text for c in mandate}
        division = v.code(m.get("CODE_STRUCTURE"))
        start, end = v.iso_date(m.get("DATE_DEBUT")), v.iso_date(m.get("DATE_FIN"))
        # SACoche keeps mandates with DATE_FIN >= today; a mandate not yet started is not kept either.
        if not division or (start and start > today) or (end and end < today):
            continue
        data.main_teachers.setdefault(division, set()).add(staff_id)
