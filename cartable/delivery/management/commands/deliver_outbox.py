from typing import Any

from django.core.management.base import BaseCommand

from cartable.delivery.services import deliver_pending


class Command(BaseCommand):
    help = (
        "Envoie les courriels et SMS en attente (écrits dans la boîte d'envoi avec la modification qu'ils "
        "annoncent). À planifier chaque minute sans Celery ; sans risque en parallèle : chaque message est "
        "réservé avant l'envoi, réessayé avec un délai croissant, abandonné après DELIVERY_MAX_ATTEMPTS essais."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = deliver_pending()
        self.stdout.write(f"{sent} message(s) envoyé(s).")
