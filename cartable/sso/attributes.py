"""The attributes a service receives: only those its registry entry lists, never "everything".

(A CAS library's "release all attributes" sent Django's password hash to services: here every
attribute is computed by name from the directory, and a name the registry does not list is
never even computed.)

The Pronote profile follows what Pronote expects from an ENT's CAS (shared/IDENTITY.md):
`nom`, `prenom`, `dateNaissance` (DD/MM/YYYY), `codePostal` when known and `categories`
(National_1 pupil, National_2 parent, National_3 teacher, National_4 staff, joined by `;`).
The directory keeps no personal postal address, so `codePostal` is not sent for now.
"""

from __future__ import annotations

from django.db.models import F, Q

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.directory.models import Guardianship, Membership, Profile, Teaching

from . import hotpath
from .models import Attribute, AttributeProfile, Service

PRONOTE_ATTRIBUTES = ("nom", "prenom", "dateNaissance", "codePostal", "categories")
# Profiles without a category (collectivité, invité) get none rather than a guessed one.
CATEGORIES: dict[str, str] = {
    Profile.ELEVE: "National_1",
    Profile.RESPONSABLE: "National_2",
    Profile.ENSEIGNANT: "National_3",
    Profile.DIRECTION: "National_4",
    Profile.SECRETARIAT: "National_4",
    Profile.VIE_SCOLAIRE: "National_4",
    Profile.PERSONNEL: "National_4",
}
# Order of the attributes in the response (stable, so services and tests see the same XML).
ORDER = [a.value for a in Attribute] + ["codePostal", "categories"]


def released_names(service: Service) -> list[str]:
    names = set(service.released_attributes or []) & {a.value for a in Attribute}
    if service.attribute_profile == AttributeProfile.PRONOTE:
        names |= set(PRONOTE_ATTRIBUTES)
    return [name for name in ORDER if name in names]


def attributes_for(user: User, service: Service) -> list[tuple[str, str]]:
    """(name, value) pairs for `user` at `service`; a multi-valued attribute repeats its name."""
    names = released_names(service)
    if not names:
        return []
    person = user.person
    etab = service.etablissement
    memberships = hotpath.memberships(user.pk, etab.pk) if person is not None else []
    profiles = sorted({profile for profile, _code in memberships})
    out: list[tuple[str, str]] = []
    for name in names:
        if name == "uid":
            out.append((name, user.username))
        elif person is None:
            continue
        elif name == "nom" and person.last_name:
            out.append((name, person.last_name))
        elif name == "prenom" and person.first_name:
            out.append((name, person.first_name))
        elif name == "dateNaissance" and person.birth_date:
            out.append((name, person.birth_date.strftime("%d/%m/%Y")))
        elif name == "profils":
            out.extend((name, p) for p in profiles)
        elif name == "uai":
            out.append((name, etab.uai))
        elif name == "classes":
            out.extend((name, code) for code in _classes(person.pk, etab.pk, memberships))
        elif name == "enfants" and Profile.RESPONSABLE in profiles:
            out.extend((name, username) for username in _children(person_ids(user), etab.pk))
        elif name == "categories":
            categories = sorted({CATEGORIES[p] for p in profiles if p in CATEGORIES})
            if categories:
                out.append((name, ";".join(categories)))
    return out


def _classes(person_id: int, etab_id: int, memberships: list[tuple[str, str | None]]) -> list[str]:
    codes = [code for profile, code in memberships if profile == Profile.ELEVE and code]
    if any(profile == Profile.ENSEIGNANT for profile, _code in memberships):
        teachings = Teaching.objects.filter(teacher_id=person_id, etablissement_id=etab_id).filter(
            Q(division__year=F("etablissement__current_year")) | Q(group__year=F("etablissement__current_year"))
        )
        for division_code, group_code in teachings.values_list("division__code", "group__code"):
            code = division_code or group_code
            if code and code not in codes:
                codes.append(code)
    return codes


def _children(guardian_ids: list[int], etab_id: int) -> list[str]:
    """Identifiers of the pupils this parent legally represents, currently in this établissement.

    `guardian_ids`: all the account's persons (merged accounts' children included).
    """
    pupils_here = Membership.objects.current().filter(etablissement_id=etab_id, profile=Profile.ELEVE)
    pupil_ids = Guardianship.objects.filter(
        guardian_id__in=guardian_ids, level=Guardianship.Level.LEGAL, pupil_id__in=pupils_here.values("person_id")
    ).values("pupil_id")
    return list(
        User.objects.filter(person_id__in=pupil_ids, is_active=True).order_by("username").values_list("username", flat=True)
    )
