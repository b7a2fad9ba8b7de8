"""Queueing and delivering e-mails and SMS (the transactional outbox).

    queue_email(["parent@example.org"], "accounts/email/activation", {"link": …})
    queue_sms("+33699001122", "Votre code Cartable : 123456")

Call them inside the transaction of the change they announce: the row commits or rolls back
with it. After the commit, `kick()` asks the worker to deliver (a Celery task when a broker is
configured, otherwise a thread of the same process, as the demo does). `deliver_pending()`
also runs on a schedule (`manage.py deliver_outbox`), which delivers whatever a crash left.
Each message is tried up to settings.DELIVERY_MAX_ATTEMPTS times with growing delays.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterable
from typing import Any

from django import db
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from . import sms
from .models import OutgoingEmail, OutgoingSMS, Status

logger = logging.getLogger(__name__)


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) from `{template}_subject.txt`, `{template}.txt`, `{template}.html`."""
    context = {"SITE_URL": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    return subject, text, html


def queue_email(to: str | Iterable[str], template: str, context: dict[str, Any]) -> OutgoingEmail:
    """Write an e-mail to the outbox in the current transaction; it is sent after the commit."""
    recipients = [to] if isinstance(to, str) else list(to)
    subject, text, html = render_email(template, context)
    message = OutgoingEmail.objects.create(to=recipients, subject=subject, text=text, html=html)
    transaction.on_commit(kick)
    return message


def queue_sms(to: str, text: str) -> OutgoingSMS:
    """Write an SMS to the outbox in the current transaction; it is sent after the commit."""
    message = OutgoingSMS.objects.create(to=to, text=text)
    transaction.on_commit(kick)
    return message


def kick() -> None:
    """Ask for delivery now: through Celery when a broker is set, else in this process."""
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        from .tasks import deliver

        try:
            deliver.delay()
            return
        except Exception:  # broker down: the scheduled run will deliver; never fail the request
            logger.exception("Delivery broker unreachable; the scheduled run will deliver")
            return
    if settings.DELIVERY_IN_BACKGROUND:
        # Without a broker, deliver from a thread so the response does not wait for SMTP or the
        # SMS gateway: a page that queued a message must take as long as one that did not (no
        # account enumeration by timing), and a slow mail server must not slow the site down.
        threading.Thread(target=_deliver_in_thread, name="cartable-delivery", daemon=True).start()
    else:
        deliver_pending()


def _deliver_in_thread() -> None:
    try:
        deliver_pending()
    except Exception:  # the scheduled run retries; a thread must not die loudly
        logger.exception("In-process delivery failed; the scheduled run will retry")
    finally:
        db.connection.close()


def _retry_delay(attempts: int) -> datetime.timedelta:
    # 1, 2, 4, 8… minutes, at most an hour.
    return datetime.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _claim(model: type[OutgoingEmail] | type[OutgoingSMS], limit: int) -> list[Any]:
    """Lease due messages to this worker, each by one conditional UPDATE (no lock held while
    sending, which matters on SQLite where a write transaction blocks every other writer).

    A worker that dies while sending lets its lease lapse and the message is tried again: a
    message is delivered at least once, never lost.
    """
    now = timezone.now()
    lease_until = now + datetime.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    due = model.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by("pk")
    claimed = []
    for pk in due.values_list("pk", flat=True)[:limit]:
        if model.objects.filter(pk=pk, status=Status.PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=lease_until
        ):
            claimed.append(model.objects.get(pk=pk))
    return claimed


def _send(message: OutgoingEmail | OutgoingSMS, mail_connection: Any) -> None:
    if isinstance(message, OutgoingEmail):
        email = EmailMultiAlternatives(
            message.subject, message.text, settings.DEFAULT_FROM_EMAIL, message.to, connection=mail_connection
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        email.send()
    else:
        sms.send(message.to, message.text)


def _deliver_batch(model: type[OutgoingEmail] | type[OutgoingSMS], limit: int) -> int:
    batch = _claim(model, limit)
    if not batch:
        return 0
    sent = 0
    mail_connection = get_connection() if model is OutgoingEmail else None
    for message in batch:
        message.attempts += 1
        try:
            _send(message, mail_connection)
        except Exception as error:  # any failure is retried later, never lost
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                message.status = Status.FAILED
                logger.error("Giving up delivering %s %s: %s", model.__name__, message.pk, message.last_error)
            else:
                message.next_attempt_at = timezone.now() + _retry_delay(message.attempts)
        else:
            message.status = Status.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
            sent += 1
        message.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
    return sent


def deliver_pending(limit: int = 200) -> int:
    """Deliver due e-mails and SMS; returns how many were sent. Safe to run concurrently."""
    return _deliver_batch(OutgoingEmail, limit) + _deliver_batch(OutgoingSMS, limit)


def prune(now: datetime.datetime | None = None) -> int:
    """Delete sent and abandoned messages older than DELIVERY_RETENTION_DAYS (they hold
    addresses and texts that are personal data); pending ones are never deleted."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    deleted = 0
    for model in (OutgoingEmail, OutgoingSMS):
        deleted += model.objects.filter(status__in=[Status.SENT, Status.FAILED], created_at__lt=cutoff).delete()[0]
    return deleted
