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
    return retry_after_many([(limit, subject)])


def retry_after_many(checks: list[tuple[Limit, str]]) -> int:
    """The longest wait among several (limit, subject) pairs, read in one cache round trip."""
    return check_many(checks)[0]


def check_many(checks: list[tuple[Limit, str]]) -> tuple[int, list[int]]:
    """(longest wait in seconds, failures counted for each pair), in one cache round trip."""
    keys = [_key(limit, subject) for limit, subject in checks]
    values = cache.get_many([k for key in keys for k in (key, key + ":start")])
    wait = 0
    now = time.time()
    counts = []
    for (limit, _subject), key in zip(checks, keys, strict=True):
        count = values.get(key, 0)
        counts.append(count)
        if count < limit.max_failures:
            continue
        first_at = values.get(key + ":start", now)
        wait = max(wait, int(math.ceil(first_at + limit.window_seconds - now)))
    return max(wait, 0), counts


def has_failures(limit: Limit, subject: str) -> bool:
    return cache.get(_key(limit, subject)) is not None


def record_failure(limit: Limit, subject: str) -> int:
    """Count one failure; returns the number of failures in the current window.

    The window opens at the first failure. The counter is incremented with the cache's `incr`,
    atomic on Redis (production), so simultaneous failures from several workers all count; the
    database cache used without Redis does a read-then-write, which can let through a burst as
    wide as the number of workers before the limit is seen.
    """
    key = _key(limit, subject)
    now = time.time()
    cache.add(key + ":start", now, timeout=limit.window_seconds)
    cache.add(key, 0, timeout=limit.window_seconds)
    try:
        failures = cache.incr(key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(key + ":start", now, timeout=limit.window_seconds)
        cache.set(key, 1, timeout=limit.window_seconds)
        return 1
    # Some backends' incr() resets the expiry to their default: keep the window's end.
    first_at = cache.get(key + ":start", now)
    cache.touch(key, max(int(math.ceil(first_at + limit.window_seconds - now)), 1))
    return failures


def reset(limit: Limit, subject: str) -> None:
    key = _key(limit, subject)
    cache.delete_many([key, key + ":start"])


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
