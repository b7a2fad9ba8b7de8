"""Which établissements a console user may manage.

One helper, used by every console screen (imports, directory, accounts), so that the rule
"a secretary manages her own établissement and no other" lives in one place.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import STAFF_CONSOLE_PROFILES, Etablissement, Membership


def managed_etablissements(user) -> QuerySet[Etablissement]:
    """Établissements `user` manages in the staff console.

    Superusers manage all of them. Other users manage the établissements where they hold a
    *current* membership (not departed) with a console profile (direction, secrétariat), and only
    while their account is active with console access: `is_staff` is withdrawn by
    `sync_staff_access` when such a membership ends, and a disabled account manages nothing.
    Anonymous users get an empty queryset.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Etablissement.objects.none()
    if user.is_superuser:
        return Etablissement.objects.all()
    if not user.is_staff or not getattr(user, "person_id", None):
        return Etablissement.objects.none()
    managed = (
        Membership.objects.current()
        .filter(person_id=user.person_id, profile__in=STAFF_CONSOLE_PROFILES)
        .values("etablissement_id")
    )
    return Etablissement.objects.filter(pk__in=managed)
