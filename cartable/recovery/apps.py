from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecoveryConfig(AppConfig):
    name = "cartable.recovery"
    verbose_name = _("Identifiant et mot de passe oubliés")
