"""The service registry's rules for OpenID Connect clients (cartable.sso.Service).

A client linked to a registry entry (`Service.oidc_application`) belongs to that entry's
établissement: it is offered only while the entry is active, and only to accounts holding one
of its allowed profiles there. A client with no entry (the mobile app, registered by a
superuser for every établissement) is open to every account.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.directory.models import Membership
from cartable.sso.models import Service


def refusal(user: User, client_id: str) -> str | None:
    """Why `user` may not sign in to `client_id` (French), or None when allowed."""
    service = Service.objects.filter(oidc_application__client_id=client_id).select_related("etablissement").first()
    if service is None:
        return None
    if not service.active:
        return _("Ce service n'est plus ouvert par votre établissement.")
    profiles = set(
        Membership.objects.current()
        .filter(person_id__in=person_ids(user), etablissement_id=service.etablissement_id)
        .values_list("profile", flat=True)
    )
    if not service.allows_profiles(profiles):
        return _("Ce service n'est pas ouvert à votre profil dans cet établissement.")
    return None
