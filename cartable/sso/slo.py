"""Single logout: POST a SAML LogoutRequest to each service that validated a ticket in the session.

Best effort by design: each callback gets SSO_CALLBACK_TIMEOUT_SECONDS, every error is logged
and ignored, so a partner that is down never stops anyone from logging out of Cartable.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.utils import timezone

from .models import Ticket
from .patterns import acceptable_url
from .xml import logout_request

log = logging.getLogger(__name__)


def send_logout_requests(tickets: list[Ticket]) -> None:
    now = timezone.now()
    for ticket in tickets:
        url = ticket.service.logout_url or ticket.url
        if not acceptable_url(url):
            continue
        try:
            requests.post(
                url,
                data={"logoutRequest": logout_request(ticket.logout_index, now)},
                timeout=settings.SSO_CALLBACK_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except Exception as error:  # noqa: BLE001  (never block a logout)
            log.warning("single logout to %s failed: %s", url, error)
