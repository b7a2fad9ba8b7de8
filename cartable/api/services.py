"""What the mobile API answers, read from the directory (no state change here)."""

from __future__ import annotations

from typing import Any

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.directory.models import Guardianship, Membership, Profile


def me(user: User) -> dict[str, Any]:
    """The account's identity, profiles and établissements (every person it speaks for)."""
    ids = person_ids(user)
    rows = (
        Membership.objects.current()
        .filter(person_id__in=ids)
        .select_related("etablissement")
        .order_by("etablissement__name", "profile")
    )
    etablissements: dict[str, dict[str, Any]] = {}
    for membership in rows:
        etab = membership.etablissement
        entry = etablissements.setdefault(etab.uai, {"uai": etab.uai, "name": etab.name, "profiles": []})
        if membership.profile not in entry["profiles"]:
            entry["profiles"].append(membership.profile)
    person = user.person
    return {
        "identifier": user.username,
        "given_name": person.first_name if person is not None else "",
        "family_name": person.display_last_name if person is not None else "",
        "profiles": sorted({p for entry in etablissements.values() for p in entry["profiles"]}),
        "etablissements": list(etablissements.values()),
    }


def children(user: User) -> list[dict[str, str]]:
    """The pupils the account is responsible for (levels 1 and 2), through all its persons."""
    links = (
        Guardianship.objects.filter(
            guardian_id__in=person_ids(user), level__in=[Guardianship.Level.LEGAL, Guardianship.Level.IN_CHARGE]
        )
        .select_related("pupil", "etablissement")
        .order_by("pupil__first_name", "pupil__last_name", "etablissement__name")
    )
    result = []
    seen = set()
    for link in links:
        if (link.pupil_id, link.etablissement_id) in seen:
            continue
        seen.add((link.pupil_id, link.etablissement_id))
        membership = (
            Membership.objects.current()
            .filter(person_id=link.pupil_id, etablissement_id=link.etablissement_id, profile=Profile.ELEVE)
            .select_related("division")
            .first()
        )
        division = membership.division if membership is not None else None
        result.append(
            {
                "given_name": link.pupil.first_name,
                "family_name": link.pupil.display_last_name,
                "uai": link.etablissement.uai,
                "etablissement": link.etablissement.name,
                "division": str(division) if division is not None else "",
            }
        )
    return result
