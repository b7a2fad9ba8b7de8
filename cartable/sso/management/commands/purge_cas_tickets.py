from typing import Any

from django.core.management.base import BaseCommand

from cartable.sso.tickets import purge


class Command(BaseCommand):
    help = (
        "Supprime les tickets CAS qui ne servent plus : tickets de service expirés ou utilisés (sauf ceux "
        "qu'une déconnexion unique doit encore nommer), et tout ticket plus vieux que SSO_PGT_SECONDS. "
        "À planifier chaque nuit sans Celery (Celery beat le fait sinon)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{purge()} ticket(s) supprimé(s).")
