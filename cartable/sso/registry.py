"""Which registered service a URL belongs to, and which services a user may open.

A user may open a service of an établissement where they hold a current membership with one of
the service's allowed profiles. The same URL may be registered by several établissements (a
shared catalogue): the first one the user belongs to with an allowed profile is used, so the
attributes released are those of the user's own établissement.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db.models import QuerySet

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.directory.models import Membership

from .models import Service
from .patterns import acceptable_url, matches


def profiles_by_etablissement(user: User) -> dict[int, set[str]]:
    """{établissement id: the user's current profiles there} (merged accounts' persons included)."""
    result: dict[int, set[str]] = {}
    ids = person_ids(user)
    if not ids:
        return result
    for etab_id, profile in Membership.objects.current().filter(person_id__in=ids).values_list(
        "etablissement_id", "profile"
    ):
        result.setdefault(etab_id, set()).add(profile)
    return result


def cas_services_for_url(url: str) -> list[Service]:
    """Active CAS services with a pattern matching `url` (any établissement)."""
    if not acceptable_url(url):
        return []
    netloc = urlsplit(url).netloc
    # Every pattern that can match contains the URL's scheme://host[:port]: a cheap prefilter
    # in the database before the exact check in Python.
    candidates: QuerySet[Service] = Service.objects.filter(
        active=True, protocol=Service.Protocol.CAS, service_patterns__contains=netloc
    ).select_related("etablissement").order_by("pk")
    return [service for service in candidates if matches(service.patterns, url)]


def allowed_service(user: User, candidates: list[Service]) -> Service | None:
    """The first of `candidates` that `user` may open (établissement and profile)."""
    if not user.is_active:
        return None
    profiles = profiles_by_etablissement(user)
    for service in candidates:
        if service.allows_profiles(profiles.get(service.etablissement_id, set())):
            return service
    return None


def may_use(user: User, service: Service) -> bool:
    return allowed_service(user, [service]) is not None
