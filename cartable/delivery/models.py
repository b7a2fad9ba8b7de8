"""The outbox: every e-mail and SMS is a row written in the transaction of the change it
announces, then delivered by a worker. A rolled-back change leaves no row (nothing is sent);
a crash after the commit leaves a pending row that the next worker run delivers.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING = "pending", _("en attente")
    SENT = "sent", _("envoyé")
    FAILED = "failed", _("abandonné après plusieurs essais")


class OutgoingMessage(models.Model):
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("prochain essai"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class OutgoingEmail(OutgoingMessage):
    to = models.JSONField(_("destinataires"), default=list)
    subject = models.CharField(_("objet"), max_length=300)
    text = models.TextField(_("texte"))
    html = models.TextField(_("HTML"), blank=True)

    class Meta(OutgoingMessage.Meta):
        verbose_name = _("courriel sortant")
        verbose_name_plural = _("courriels sortants")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{', '.join(self.to)}: {self.subject}"


class OutgoingSMS(OutgoingMessage):
    to = models.CharField(_("destinataire"), max_length=20)
    text = models.TextField(_("texte"))

    class Meta(OutgoingMessage.Meta):
        verbose_name = _("SMS sortant")
        verbose_name_plural = _("SMS sortants")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:40]}"
