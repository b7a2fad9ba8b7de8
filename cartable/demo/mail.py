"""The demo's e-mail outbox: messages are kept in the database and listed at /demo/outbox/."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from .models import OutboxMessage

        for message in email_messages:
            html = ""
            for content, mimetype in getattr(message, "alternatives", []) or []:
                if mimetype == "text/html":
                    html = str(content)
            OutboxMessage.objects.create(
                to=", ".join(message.to), subject=str(message.subject), body=str(message.body), html=html
            )
        return len(email_messages)
