"""The home page's tiles: the partner services a user may open, without a second login.

A CAS tile opens /cas/login?service=<access URL>: the session already there, the CAS server
sends the browser on with a ticket. An OpenID Connect tile opens the service's own address:
the relying party starts its own flow, which the provider answers from the same session.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from cartable.accounts.models import User

from .models import Service
from .registry import profiles_by_etablissement


@dataclass(frozen=True)
class Tile:
    name: str
    description: str
    url: str
    protocol: str
    etablissement: str


def tiles_for(user: User) -> list[Tile]:
    """Active, tile-enabled services of the user's établissements that accept their profile."""
    if not user.is_authenticated or not user.is_active:
        return []
    profiles = profiles_by_etablissement(user)
    if not profiles:
        return []
    services = Service.objects.filter(etablissement_id__in=profiles, active=True, show_tile=True).select_related(
        "etablissement"
    )
    tiles = []
    for service in services:
        if not service.allows_profiles(profiles[service.etablissement_id]):
            continue
        if service.protocol == Service.Protocol.CAS:
            url = f"{reverse('sso:login')}?{urlencode({'service': service.access_url})}"
        else:
            url = service.access_url
        tiles.append(Tile(service.name, service.description, url, service.protocol, service.etablissement.name))
    return tiles
