"""Celery task (scheduled daily in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .expiry import expire_accounts


@shared_task(name="cartable.activation.expire_accounts")
def expire_accounts_task() -> dict[str, int]:
    report = expire_accounts()
    return {"deactivated": len(report.deactivated), "deleted": len(report.deleted)}
