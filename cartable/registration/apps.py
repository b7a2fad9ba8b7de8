from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationConfig(AppConfig):
    name = "cartable.registration"
    label = "registration"
    verbose_name = _("Inscription sans compte (je n'ai pas de compte)")
