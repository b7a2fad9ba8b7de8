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

from cartable.directory.models import Guardianship, Membership, Profile

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
