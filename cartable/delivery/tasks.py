"""Celery tasks (worker: `celery -A cartable worker -B`)."""

from celery import shared_task

from .services import deliver_pending, prune


@shared_task(name="cartable.delivery.deliver", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def deliver() -> int:
    return deliver_pending()


@shared_task(name="cartable.delivery.prune")
def prune_task() -> int:
    return prune()
