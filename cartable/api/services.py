"""What the mobile API answers, read from the directory (no state change here)."""

from __future__ import annotations

from typing import Any

from cartable.accounts import persons
from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.directory.models import Membership


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
    return [
        {
            "given_name": child.pupil.first_name,
            "family_name": child.pupil.display_last_name,
            "uai": child.etablissement.uai,
            "etablissement": child.etablissement.name,
            "division": str(child.division) if child.division is not None else "",
        }
        for child in persons.children(user)
    ]
