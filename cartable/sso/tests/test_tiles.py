"""The home page's tiles: per établissement and profile, CAS through /cas/login, OIDC direct."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from cartable.directory.models import Profile
from cartable.sso.models import Service
from cartable.sso.tiles import tiles_for

from .conftest import SERVICE_URL, make_service

pytestmark = pytest.mark.django_db


def test_tiles_per_profile(etab, other_etab, pupil, parent, teacher):
    make_service(etab, name="Pronote", allowed_profiles=[Profile.ELEVE, Profile.RESPONSABLE])
    make_service(etab, name="Manuels", allowed_profiles=[Profile.ENSEIGNANT], access_url="https://manuels.exemple.fr/",
                 service_patterns="https://manuels.exemple.fr/")
    make_service(etab, name="Caché", show_tile=False)
    make_service(etab, name="Inactif", active=False)
    make_service(other_etab, name="Pronote ailleurs")
    make_service(etab, name="Médiathèque", protocol=Service.Protocol.OIDC, access_url="https://media.exemple.fr/connexion",
                 service_patterns="", allowed_profiles=[Profile.RESPONSABLE])

    assert [t.name for t in tiles_for(pupil)] == ["Pronote"]
    assert [t.name for t in tiles_for(parent)] == ["Médiathèque", "Pronote"]
    assert [t.name for t in tiles_for(teacher)] == ["Manuels"]
    pronote = next(t for t in tiles_for(parent) if t.name == "Pronote")
    assert pronote.url == reverse("sso:login") + "?service=https%3A%2F%2Fpronote.exemple.fr%2Fpronote%2Feleve.html"
    media = next(t for t in tiles_for(parent) if t.name == "Médiathèque")
    assert media.url == "https://media.exemple.fr/connexion"


def test_departed_member_gets_no_tile(etab, pupil):
    from django.utils import timezone

    make_service(etab)
    pupil.person.memberships.update(departed_at=timezone.now())
    assert tiles_for(pupil) == []


def test_home_shows_the_tiles(client, etab, parent):
    make_service(etab, name="Pronote", description="Notes et cahier de textes")
    client.force_login(parent)
    body = html.unescape(client.get(reverse("portal:home")).content.decode())
    assert "Mes services" in body
    assert "Notes et cahier de textes" in body
    assert f'href="/cas/login?service={SERVICE_URL.replace(":", "%3A").replace("/", "%2F")}"' in body


def test_home_without_services_has_no_tile_section(client, parent):
    client.force_login(parent)
    assert "Mes services" not in client.get(reverse("portal:home")).content.decode()
