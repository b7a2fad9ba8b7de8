from celery import shared_task

from .tickets import purge


@shared_task(name="cartable.sso.purge_tickets")
def purge_tickets() -> int:
    """Nightly: delete CAS tickets that can no longer be used (tickets.purge)."""
    return purge()
