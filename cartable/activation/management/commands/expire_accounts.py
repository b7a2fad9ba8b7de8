"""`manage.py expire_accounts [--dry-run]`: run daily (cron or Celery beat, see README)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from cartable.accounts.letters import french_date
from cartable.activation.expiry import Expired, expire_accounts


class Command(BaseCommand):
    help = _(
        "Applique les délais des identifiants provisoires aux comptes jamais activés. Règles : un compte dont "
        "les identifiants provisoires ont été remis il y a plus de ACTIVATION_DEADLINE_DAYS jours (3 mois par "
        "défaut) est désactivé ; plus de ACCOUNT_DELETION_DAYS jours (1 an), il est supprimé : le compte et ses "
        "données personnelles sont effacés, la personne de l'annuaire est conservée et une ligne d'audit "
        "(identifiant, établissement, motif, dates) est gardée. Relancer la commande ne change rien de plus ; "
        "deux exécutions simultanées ne traitent jamais deux fois le même compte. À lancer chaque jour."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("Affiche ce qui serait fait, sans rien changer."))

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        report = expire_accounts(dry_run=dry_run)
        for item in report.deleted:
            self.stdout.write(self._line(item, _("serait supprimé") if dry_run else _("supprimé")))
        for item in report.deactivated:
            self.stdout.write(self._line(item, _("serait désactivé") if dry_run else _("désactivé")))
        summary = _(
            "%(deactivated)d compte(s) désactivé(s) (délai de %(deadline)d jours), "
            "%(deleted)d compte(s) supprimé(s) (délai de %(deletion)d jours)."
        ) % {
            "deactivated": len(report.deactivated),
            "deleted": len(report.deleted),
            "deadline": settings.ACTIVATION_DEADLINE_DAYS,
            "deletion": settings.ACCOUNT_DELETION_DAYS,
        }
        self.stdout.write(_("Simulation, rien n'a été changé : %(summary)s") % {"summary": summary} if dry_run else summary)

    @staticmethod
    def _line(item: Expired, verb: str) -> str:
        return _("%(username)s%(uai)s : identifiants remis le %(date)s, %(verb)s") % {
            "username": item.username,
            "uai": f" [{item.uai}]" if item.uai else "",
            "date": french_date(item.issued_at),
            "verb": verb,
        }
