"""SMS gateways. SMS_URL selects one:

- unset or ``outbox:`` — SMS are only kept in the outbox table (demo, tests): `send` does nothing
  more, and the demo shows them at /demo/outbox/;
- ``http(s)://…`` — a generic HTTP JSON gateway: POST {"to": "+33…", "text": "…"}; any 2xx is
  success. Credentials go in the URL (https://user:token@sms.example/send) as HTTP basic auth.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class SmsError(Exception):
    pass


def send(to: str, text: str) -> None:
    url = settings.SMS_URL
    if not url or url.startswith("outbox:"):
        return
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise SmsError(f"SMS_URL scheme not supported: {parts.scheme}")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if parts.username:
        token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    body = json.dumps({"to": to, "text": text}).encode()
    request = urllib.request.Request(urlunsplit(parts), data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise SmsError(f"SMS gateway answered {response.status}")
