from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinkingConfig(AppConfig):
    name = "cartable.linking"
    label = "linking"
    verbose_name = _("Liens parents–enfants")
