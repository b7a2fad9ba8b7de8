"""Test helpers: a real SMTP server (aiosmtpd) on 127.0.0.1 and readers for links and codes.

    def test_x(smtp_server):
        ...                                    # code under test queues an e-mail and commits
        message = smtp_server.wait_for("parent@example.org")
        link = smtp_server.link_in(message)    # the first link to SITE_URL in the text part
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from .models import OutgoingSMS

_URL = re.compile(r"https?://[^\s<>\"']+")


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 (aiosmtpd API)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[attr-defined]
        with self._changed:
            self.messages.append(message)  # type: ignore[arg-type]
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> EmailMessage:
        """The `count`-th message received for `address` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.to(address)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no e-mail #{count} for {address}; got {[m['To'] for m in self.messages]}")
                self._changed.wait(remaining)
            return self.to(address)[count - 1]

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @staticmethod
    def html_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def link_in(self, message: EmailMessage, contains: str = "") -> str:
        """The first link to this site in the text part (optionally containing `contains`)."""
        for url in _URL.findall(self.text_of(message)):
            if url.startswith(settings.SITE_URL) and contains in url:
                return url.rstrip(".,;)")
        raise AssertionError(f"no link to {settings.SITE_URL} in: {self.text_of(message)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings: object) -> Iterator[SmtpSink]:
    """A real SMTP server for the test; Django sends to it (delivery runs in-process)."""
    sink = SmtpSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST = "127.0.0.1"  # type: ignore[attr-defined]
    settings.EMAIL_PORT = port  # type: ignore[attr-defined]
    settings.EMAIL_USE_TLS = False  # type: ignore[attr-defined]
    settings.EMAIL_USE_SSL = False  # type: ignore[attr-defined]
    settings.EMAIL_HOST_USER = ""  # type: ignore[attr-defined]
    settings.EMAIL_HOST_PASSWORD = ""  # type: ignore[attr-defined]
    try:
        yield sink
    finally:
        controller.stop()


def last_sms(to: str) -> str:
    """Text of the newest SMS queued for `to` (E.164)."""
    message = OutgoingSMS.objects.filter(to=to).order_by("-created_at", "-pk").first()
    if message is None:
        raise AssertionError(f"no SMS for {to}")
    return message.text


def last_sms_code(to: str) -> str:
    match = re.search(r"\b(\d{6})\b", last_sms(to))
    if match is None:
        raise AssertionError(f"no 6-digit code in the SMS for {to}")
    return match.group(1)
