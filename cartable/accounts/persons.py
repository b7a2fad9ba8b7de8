"""Which directory persons an account speaks for: the one place "children of this account" starts.

An account is one human; a human may appear as several directory `Person` rows (one per
établissement or source). When a parent merges their accounts (cartable.merging), the absorbed
account keeps its own person (the importer keeps finding an account for it and never creates a
new one) but is closed with `merged_into` pointing to the kept account. So the persons of an
account are its own plus those of the accounts merged into it. Chains are flattened when a merge
happens (accounts merged into the absorbed one are repointed to the kept one): one level is
enough.

Every query about a parent's children goes through `person_ids` (Mon compte → Enfants, the
activation's birth-date check…): a parent sees all their children, and only theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartable.directory.models import Division, Etablissement, Guardianship, Membership, Person, Profile

from .models import User


def person_ids(user: User) -> list[int]:
    """[user.person_id] + the person ids of the accounts merged into `user` (oldest merge first).

    An account without a person (a superuser made by hand) has none of its own.
    """
    ids = [user.person_id] if user.person_id else []
    if user.pk is None:
        return ids
    absorbed = (
        User.objects.filter(merged_into_id=user.pk)
        .filter(person_id__isnull=False)
        .order_by("deactivated_at", "pk")
        .values_list("person_id", flat=True)
    )
    return ids + [pid for pid in absorbed if pid not in ids]


def is_responsable(user: User) -> bool:
    """A parent's account: a current responsable profile, or child links, on any of its persons."""
    ids = person_ids(user)
    if not ids:
        return False
    return (
        Membership.objects.current().filter(person_id__in=ids, profile=Profile.RESPONSABLE).exists()
        or Guardianship.objects.filter(guardian_id__in=ids).exists()
    )


@dataclass(frozen=True)
class ChildLink:
    """A pupil an account is responsible for, in one établissement, with their current class."""

    pupil: Person
    etablissement: Etablissement
    link: Guardianship
    division: Division | None  # None when the pupil has no class there this year


def children(user: User) -> list[ChildLink]:
    """The pupils the account's persons are responsible for (levels 1 and 2), and nobody else's.

    One entry per pupil and établissement, even when two persons of the account (regroupement)
    are both linked to the child. Ordered by first name, last name, établissement.
    """
    ids = person_ids(user)
    if not ids:
        return []
    links = list(
        Guardianship.objects.filter(
            guardian_id__in=ids, level__in=[Guardianship.Level.LEGAL, Guardianship.Level.IN_CHARGE]
        )
        .select_related("pupil", "etablissement")
        .order_by("pupil__first_name", "pupil__last_name", "etablissement__name", "level")
    )
    classes = {
        (m.person_id, m.etablissement_id): m.division
        for m in Membership.objects.current()
        .filter(person_id__in={link.pupil_id for link in links}, profile=Profile.ELEVE)
        .select_related("division")
    }
    result, seen = [], set()
    for link in links:
        key = (link.pupil_id, link.etablissement_id)
        if key in seen:
            continue
        seen.add(key)
        result.append(ChildLink(link.pupil, link.etablissement, link, classes.get(key)))
    return result
