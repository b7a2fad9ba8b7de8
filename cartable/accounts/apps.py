from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cartable.accounts"
    verbose_name = _("Comptes")

    def ready(self) -> None:
        from . import charters  # noqa: F401  (connects the signals that keep its cache fresh)
