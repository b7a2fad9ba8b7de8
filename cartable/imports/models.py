"""A record of every import: who ran it, on which files, and the report it produced."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Réussi")
        FAILED = "failed", _("Refusé (rien n'a été importé)")
        DRY_RUN = "dry_run", _("Essai (rien n'a été enregistré)")

    etablissement = models.ForeignKey(
        "directory.Etablissement", on_delete=models.CASCADE, related_name="import_runs", verbose_name=_("établissement")
    )
    started_at = models.DateTimeField(_("lancé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("lancé par"),
    )
    files = models.JSONField(_("fichiers"), default=list)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices)
    # Written by service.run_import (errors.Report.as_json): "created", "updated", "departed",
    # "returned", "ignored", "rejected" each map a kind (pupils, responsables, staff, links,
    # classes, accounts) to a count; "rejections" and "warnings" are lists of {code, message,
    # count, examples}; "errors" a list of {file, line, column, element, message, text};
    # also "files", "year", "dry_run", "duration_s", "timings".
    report = models.JSONField(_("compte rendu"), default=dict)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.etablissement.uai} {self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"
