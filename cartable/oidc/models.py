"""Consents: what a person allowed a relying party to know, asked once and remembered.

django-oauth-toolkit skips its consent page only while an unexpired access token with the same
scopes exists (minutes here): a parent would be asked again at every visit. A `Consent` row
remembers the scopes granted to a client until the person withdraws it (or the client asks for
more, which asks again). Clients an établissement pre-approves (`Application.skip_authorization`,
"service de confiance" in the console) never show the page.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid

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


class RedeemedCode(models.Model):
    """An authorization code already exchanged, remembered to catch its replay (RFC 6749 §4.1.2).

    django-oauth-toolkit deletes a code once exchanged, so a replay is refused, but the tokens the
    first exchange issued live on: if the code leaked, its thief may have been the first. The
    specification says the provider SHOULD then revoke them; this row (a SHA-256 digest of the
    code, never the code) leads from the code to its token family (the refresh tokens rotated
    from it and their access tokens), which the replay revokes. Rows are kept for MEMORY: a code
    lives a minute (OIDC_CODE_SECONDS), so a replay comes within seconds or not at all.
    """

    MEMORY = datetime.timedelta(days=1)

    digest = models.CharField(max_length=64, unique=True)
    token_family = models.UUIDField()
    redeemed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("code d'autorisation utilisé")
        verbose_name_plural = _("codes d'autorisation utilisés")

    def __str__(self) -> str:
        return f"{self.digest[:12]}… {self.redeemed_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def digest_of(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()

    @classmethod
    def remember(cls, code: str, token_family: uuid.UUID) -> None:
        now = timezone.now()
        cls.objects.filter(redeemed_at__lt=now - cls.MEMORY).delete()
        cls.objects.create(digest=cls.digest_of(code), token_family=token_family, redeemed_at=now)

    @classmethod
    def family_of_replayed(cls, code: str) -> uuid.UUID | None:
        """The token family a replayed code had issued (None: never exchanged here)."""
        return cls.objects.filter(digest=cls.digest_of(code)).values_list("token_family", flat=True).first()
