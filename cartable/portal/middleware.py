"""Sliding idle expiry for sessions opened from a public computer ("Mémoriser ce choix : Non")."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from .choice import SESSION_KEY as CHOICE_SESSION_KEY
from .services import IDLE_LOGOUT_KEY, LAST_SEEN_KEY

# Refreshing the last-seen time rewrites the session: doing it at most once a minute keeps a
# busy page from writing the session on every request, at the cost of a minute's imprecision.
REFRESH_EVERY_SECONDS = 60


class PublicSessionIdleMiddleware:
    """Log out a public session idle for more than PUBLIC_SESSION_IDLE_SECONDS.

    Django's own session expiry cannot express "ends with the browser *and* after N idle
    minutes" (a session expires either at browser close or after a fixed age), so the session
    carries its last-seen time and this middleware checks it. Must come after SessionMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        last_seen = request.session.get(LAST_SEEN_KEY)
        if last_seen is not None:
            now = int(time.time())
            if now - int(last_seen) > settings.PUBLIC_SESSION_IDLE_SECONDS:
                choice = request.session.get(CHOICE_SESSION_KEY)
                logout(request)  # flushes the session and sets request.user to AnonymousUser
                # The new anonymous session keeps the profile choice (so the user lands on the
                # login form) and a note for the login page; it too ends with the browser.
                request.session.set_expiry(0)
                request.session[IDLE_LOGOUT_KEY] = True
                if choice is not None:
                    request.session[CHOICE_SESSION_KEY] = choice
            elif now - int(last_seen) >= REFRESH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
