"""The scopes a relying party may ask for, described in French on the consent page.

`openid` (the subject identifier), `profile` (names), `email` (a verified address only),
`ent` (profiles and établissements: UAI) and `api` (the mobile API, cartable.api).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import BaseScopes

SCOPES = {
    "openid": _("vous reconnaître quand vous vous connectez (un identifiant propre à ce service)"),
    "profile": _("connaître vos prénom et nom"),
    "email": _("connaître votre adresse électronique, si elle a été vérifiée"),
    "ent": _("connaître votre profil (élève, parent, enseignant…) et vos établissements"),
    "api": _("utiliser l'application mobile Cartable : vos informations et celles de vos enfants"),
}
# The scope the mobile API requires (cartable.api).
API_SCOPE = "api"


def _is_partner(application) -> bool:
    from cartable.sso.models import Service  # models are not ready when the settings load this

    return Service.objects.filter(oidc_application=application).exists()


class CartableScopes(BaseScopes):
    def get_all_scopes(self) -> dict:
        return {name: str(label) for name, label in SCOPES.items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        """Every scope, except `api` for a partner service of the registry.

        The mobile API tells a parent's children: it is for the ENT's own applications (clients
        registered without a registry entry), never for a partner tool an établissement opens.
        """
        if application is not None and _is_partner(application):
            return [name for name in SCOPES if name != API_SCOPE]
        return list(SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return ["openid"]
