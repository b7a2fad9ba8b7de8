"""{% sso_tiles user as tiles %}: the home page's partner-service tiles (cartable.sso.tiles)."""

from __future__ import annotations

from django import template

from cartable.accounts.models import User
from cartable.sso.tiles import Tile, tiles_for

register = template.Library()


@register.simple_tag
def sso_tiles(user: User) -> list[Tile]:
    return tiles_for(user)
