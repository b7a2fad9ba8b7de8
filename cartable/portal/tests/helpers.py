"""Helpers for portal tests: walk the portal steps and log in like a browser would."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from cartable.conftest import PASSWORD


def choose(client: Client, profile: str = "eleve_parent", level: str = "college", remember: bool = False, **extra):
    """Step 2 of the portal (POST): returns the response (a redirect to the login form)."""
    data = {"profil": profile, "niveau": level, "memoriser": "oui" if remember else "non", **extra}
    return client.post(reverse("portal:start"), data)


def login(client: Client, username: str, password: str = PASSWORD, *, data: dict | None = None, **meta):
    """POST the login form (extra form fields in `data`, e.g. next; WSGI environ in `meta`)."""
    form = {"identifiant": username, "mot_de_passe": password, **(data or {})}
    return client.post(reverse("portal:login"), form, **meta)


def log_in(client: Client, username: str, *, remember: bool = False, password: str = PASSWORD):
    """Choose a profile, then log in; asserts success."""
    choose(client, remember=remember)
    response = login(client, username, password)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("portal:home")
    return response
