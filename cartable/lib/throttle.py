"""Counting failed guesses and refusing more for a while (login, codes, birth dates…).

Written on Django's cache API rather than with django-axes: the same counter serves every
flow that can be guessed (passwords, birth dates, SMS codes, secret answers), each with its
own limit, and the caller must be able to tell the user when to retry. The cache is shared by
all workers (Redis in production, a database table otherwise).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Limit:
    scope: str  # e.g. "login-account"
    max_failures: int
    window_seconds: int


def _key(limit: Limit, subject: str) -> str:
    # Subjects are identifiers or addresses: hash them so the cache never holds them in clear.
    digest = hashlib.sha256(f"{limit.scope}:{subject.casefold()}".encode()).hexdigest()[:40]
    return f"throttle:{limit.scope}:{digest}"


def retry_after(limit: Limit, subject: str) -> int:
    """Seconds before `subject` may try again (0: not blocked)."""
    state = cache.get(_key(limit, subject))
    if not state:
        return 0
    failures, first_at = state
    if failures < limit.max_failures:
        return 0
    remaining = int(math.ceil(first_at + limit.window_seconds - time.time()))
    return max(remaining, 0)


def record_failure(limit: Limit, subject: str) -> int:
    """Count one failure; returns the number of failures in the current window.

    Read-then-write, not atomic: two requests failing at the same instant may count once. That
    lets a burst through only as wide as the number of workers (2 by default), and the next
    check sees the limit reached; an atomic counter would need Redis for every deployment.
    """
    key = _key(limit, subject)
    now = time.time()
    state = cache.get(key)
    if not state or now >= state[1] + limit.window_seconds:
        state = (0, now)
    state = (state[0] + 1, state[1])
    cache.set(key, state, timeout=limit.window_seconds + 1)
    return state[0]


def reset(limit: Limit, subject: str) -> None:
    cache.delete(_key(limit, subject))


def client_address(request: HttpRequest) -> str:
    """The client's address; X-Forwarded-For is read only through the configured trusted proxies."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def minutes_label(seconds: int) -> int:
    """Whole minutes to show the user (at least 1)."""
    return max(1, int(math.ceil(seconds / 60)))
