from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "cartable.sso"
    label = "sso"
    verbose_name = _("Services partenaires (authentification unique)")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the login/logout receivers)
