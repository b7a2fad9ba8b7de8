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


class CartableScopes(BaseScopes):
    def get_all_scopes(self) -> dict:
        return {name: str(label) for name, label in SCOPES.items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return list(SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return ["openid"]
