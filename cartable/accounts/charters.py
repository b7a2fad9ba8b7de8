"""The current charter's id and version, read from the cache rather than the database.

Every page behind `charter_required` and every login asks which charter version is current;
the answer changes only when staff publish a version. It is kept in the cache (Redis in
production) for at most CHARTER_CACHE_SECONDS, and dropped whenever a charter is saved or
deleted, so a new version is asked at the next page. A version published with a future date
becomes current at that date: the cached answer never outlives the next scheduled publication.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Charter

CACHE_KEY = "accounts:charter:current"
CHARTER_CACHE_SECONDS = 300
_NONE = (0, 0)  # cached "no charter" (None cannot be told from a miss)


class CharterRef(NamedTuple):
    id: int
    version: int


def current_ref() -> CharterRef | None:
    """(id, version) of the charter in force now, or None when no charter is published."""
    cached = cache.get(CACHE_KEY)
    if cached is None:
        now = timezone.now()
        charter = Charter.objects.filter(published_at__lte=now).order_by("-version").values_list("id", "version").first()
        cached = tuple(charter) if charter else _NONE
        upcoming = (
            Charter.objects.filter(published_at__gt=now).order_by("published_at").values_list("published_at", flat=True).first()
        )
        timeout = CHARTER_CACHE_SECONDS
        if upcoming is not None:
            timeout = max(1, min(timeout, int((upcoming - now).total_seconds())))
        cache.set(CACHE_KEY, cached, timeout)
    return None if tuple(cached) == _NONE else CharterRef(*cached)


@receiver(post_save, sender=Charter)
@receiver(post_delete, sender=Charter)
def _forget(**kwargs: Any) -> None:
    cache.delete(CACHE_KEY)
