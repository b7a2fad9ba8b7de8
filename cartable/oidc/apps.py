from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class OidcConfig(AppConfig):
    name = "cartable.oidc"
    label = "oidc"
    verbose_name = _("Fournisseur OpenID Connect")

    def ready(self) -> None:
        # The console lists the clients under django-oauth-toolkit's app: name it in French.
        apps.get_app_config("oauth2_provider").verbose_name = _("Services OpenID Connect")
