from typing import Any

from django.core.management.base import BaseCommand

from cartable.delivery.services import deliver_pending, prune


class Command(BaseCommand):
    help = (
        "Envoie les courriels et SMS en attente (écrits dans la boîte d'envoi avec la modification qu'ils "
        "annoncent). À planifier chaque minute sans Celery ; sans risque en parallèle : chaque message est "
        "réservé avant l'envoi, réessayé avec un délai croissant, abandonné après DELIVERY_MAX_ATTEMPTS essais. Avec --prune, supprime les messages envoyés ou "
        "abandonnés depuis plus de DELIVERY_RETENTION_DAYS jours (données personnelles)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--prune", action="store_true", help="Supprimer aussi les messages envoyés ou abandonnés anciens."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = deliver_pending()
        self.stdout.write(f"{sent} message(s) envoyé(s).")
        if options["prune"]:
            self.stdout.write(f"{prune()} message(s) ancien(s) supprimé(s).")
