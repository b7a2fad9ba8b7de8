"""Link reports: a parent says « Je ne suis pas le représentant légal de cet élève ».

A report names the link as it stood (guardian person, pupil person, établissement) rather than
the Guardianship row, because fixing the report deletes that row and the report must outlive it.
It goes to the établissement's staff queue (the console, scoped to the secretary's
établissements), which either removes the link (« corrigé ») or keeps it (« rejeté »), with a
note the parent sees in Mon compte → Enfants.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A report's free-text comment, from the parent, and the staff's note: short on purpose (a
# report is a pointer to a record, not a conversation).
COMMENT_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 1000


class LinkReport(models.Model):
    class Source(models.TextChoices):
        REGISTRATION = "inscription", _("Inscription (je n'ai pas de compte)")
        MYACCOUNT = "mon_compte", _("Mon compte")
        FRANCECONNECT = "franceconnect", _("Première connexion FranceConnect")

    class Status(models.TextChoices):
        OPEN = "ouvert", _("Ouvert")
        FIXED = "corrige", _("Corrigé (lien retiré)")
        REJECTED = "rejete", _("Rejeté (lien conservé)")

    guardian = models.ForeignKey(
        "directory.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("responsable")
    )
    pupil = models.ForeignKey("directory.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("élève"))
    etablissement = models.ForeignKey(
        "directory.Etablissement", on_delete=models.CASCADE, related_name="+", verbose_name=_("établissement")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("signalé par (compte)"),
    )
    source = models.CharField(_("origine"), max_length=20, choices=Source.choices)
    comment = models.TextField(_("commentaire du parent"), max_length=COMMENT_MAX_LENGTH, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(_("signalé le"), default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("traité par"),
    )
    handled_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    staff_note = models.TextField(_("note de l'établissement"), max_length=NOTE_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("signalement de lien")
        verbose_name_plural = _("signalements de liens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["etablissement", "status"])]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.pupil} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
