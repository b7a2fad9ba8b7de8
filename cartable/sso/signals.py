"""Every logout (the portal's, /cas/logout, an idle timeout through logout()) ends the CAS session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from . import tickets


@receiver(user_logged_out, dispatch_uid="cartable.sso.end_session")
def _end_cas_session(sender: Any, request: Any = None, **kwargs: Any) -> None:
    # Sent before the session is flushed: its key still names the session's tickets.
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        tickets.end_session(session.session_key)
