from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "cartable.delivery"
    verbose_name = _("Envois (courriels et SMS)")
