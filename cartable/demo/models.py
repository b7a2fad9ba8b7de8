from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """An e-mail the demo 'sent' (EMAIL_URL=outbox:), shown at /demo/outbox/."""

    sent_at = models.DateTimeField(auto_now_add=True)
    to = models.TextField(_("destinataires"))
    subject = models.CharField(_("objet"), max_length=300)
    body = models.TextField(_("texte"))
    html = models.TextField(_("HTML"), blank=True)

    class Meta:
        verbose_name = _("message de démonstration")
        verbose_name_plural = _("boîte d'envoi de démonstration")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
