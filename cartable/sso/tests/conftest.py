"""Fixtures of the SSO tests: registered services of the personas' établissement."""

from __future__ import annotations

import pytest

from cartable.directory.models import Profile
from cartable.sso.models import Service

SERVICE_URL = "https://pronote.exemple.fr/pronote/eleve.html"


def make_service(etab, **extra) -> Service:
    extra.setdefault("name", "Pronote")
    extra.setdefault("access_url", SERVICE_URL)
    extra.setdefault("service_patterns", "https://pronote.exemple.fr/pronote/*")
    extra.setdefault("allowed_profiles", [Profile.ELEVE, Profile.RESPONSABLE, Profile.ENSEIGNANT])
    return Service.objects.create(etablissement=etab, **extra)


@pytest.fixture
def service(etab) -> Service:
    return make_service(etab, released_attributes=["uid", "nom", "prenom"])
