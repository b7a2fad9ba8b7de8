"""Consents: what a person allowed a relying party to know, asked once and remembered.

django-oauth-toolkit skips its consent page only while an unexpired access token with the same
scopes exists (minutes here): a parent would be asked again at every visit. A `Consent` row
remembers the scopes granted to a client until the person withdraws it (or the client asks for
more, which asks again). Clients an établissement pre-approves (`Application.skip_authorization`,
"service de confiance" in the console) never show the page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class Consent(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_consents", verbose_name=_("compte")
    )
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    scope = models.TextField(_("autorisations accordées"), help_text=_("Séparées par des espaces."))
    granted_at = models.DateTimeField(_("accordé le"), default=timezone.now)

    class Meta:
        verbose_name = _("consentement")
        verbose_name_plural = _("consentements")
        constraints = [models.UniqueConstraint(fields=["user", "application"], name="oidc_consent_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}"

    def covers(self, scopes: list[str] | set[str]) -> bool:
        return set(scopes) <= set(self.scope.split())
