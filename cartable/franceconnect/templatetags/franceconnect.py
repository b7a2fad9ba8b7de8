"""{% franceconnect_button %}: the "S'identifier avec FranceConnect" button, when it is configured."""

from __future__ import annotations

from typing import Any

from django import template

from cartable.franceconnect.client import is_configured

register = template.Library()


@register.inclusion_tag("franceconnect/button.html", takes_context=True)
def franceconnect_button(context: template.Context, next_url: str = "") -> dict[str, Any]:
    # FranceConnect is for parents (and pupils): hidden once another profile has been chosen.
    choice = context.get("choice")
    for_this_profile = choice is None or getattr(choice, "profile", "") == "eleve_parent"
    return {"enabled": is_configured() and for_this_profile, "next_url": next_url}
