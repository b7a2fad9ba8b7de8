"""The service registry in the staff console: scoped to the secretary's établissement."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from cartable.accounts.models import User
from cartable.sso.models import Service

from .conftest import make_service

ADD = reverse("admin:sso_service_add")
LIST = reverse("admin:sso_service_changelist")


def change_url(service: Service) -> str:
    return reverse("admin:sso_service_change", args=[service.pk])


def form_data(etab, **extra) -> dict:
    data = {
        "etablissement": etab.pk,
        "name": "Le CDI",
        "description": "Catalogue du CDI",
        "protocol": "cas",
        "access_url": "https://cdi.exemple.fr/esidoc/login",
        "show_tile": "on",
        "active": "on",
        "allowed_profiles": ["eleve", "enseignant"],
        "released_attributes": ["uid", "classes"],
        "attribute_profile": "",
        "service_patterns": "https://cdi.exemple.fr/esidoc/*",
        "logout_url": "",
    }
    data.update(extra)
    return data


@pytest.fixture
def console(client, secretary):
    client.force_login(secretary)
    return client


def test_secretary_sees_only_her_etablissement_services(console, etab, other_etab):
    mine = make_service(etab, name="Pronote du collège")
    theirs = make_service(other_etab, name="Pronote de Jean Moulin")
    response = console.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.name in body
    assert theirs.name not in body
    assert console.get(change_url(theirs)).status_code == 404
    assert console.get(change_url(mine)).status_code == 200


def test_secretary_cannot_register_for_another_etablissement(console, other_etab):
    response = console.post(ADD, form_data(other_etab))
    assert response.status_code == 200  # the form again, with an error
    assert not Service.objects.exists()


def test_secretary_registers_a_service(console, etab):
    response = console.post(ADD, form_data(etab))
    assert response.status_code == 302, response.content.decode()[:2000]
    service = Service.objects.get()
    assert service.etablissement == etab
    assert service.released_attributes == ["uid", "classes"]
    assert service.allowed_profiles == ["eleve", "enseignant"]
    assert service.patterns == ["https://cdi.exemple.fr/esidoc/*"]


@pytest.mark.parametrize(
    ("extra", "field_message"),
    [
        ({"service_patterns": "^https://cdi\\.exemple\\.fr/.*$"}, "n'est permis qu'à la fin"),
        ({"service_patterns": "^https://cdi.exemple.fr/"}, "n'est pas une adresse acceptée"),
        ({"service_patterns": "http://cdi.exemple.fr/*"}, "n'est pas une adresse acceptée"),
        ({"service_patterns": ""}, "au moins une adresse de service"),
        ({"access_url": "https://ailleurs.exemple.fr/"}, "doit faire partie des adresses"),
        ({"allowed_profiles": []}, "Cochez au moins un profil"),
        ({"released_attributes": ["password"]}, "Sélectionnez un choix valide"),
    ],
)
def test_refused_registrations_say_why_in_french(console, etab, extra, field_message):
    response = console.post(ADD, form_data(etab, **extra))
    assert response.status_code == 200
    assert field_message in html.unescape(response.content.decode())
    assert not Service.objects.exists()


def test_superuser_sees_every_service(client, etab, other_etab):
    admin = User.objects.create_superuser("admin.cartable", password="Motdepasse-2026")
    client.force_login(admin)
    make_service(etab, name="Pronote du collège")
    make_service(other_etab, name="Pronote de Jean Moulin")
    body = client.get(LIST).content.decode()
    assert "Pronote du collège" in body and "Pronote de Jean Moulin" in body


def test_parent_has_no_console(client, parent, etab):
    client.force_login(parent)
    response = client.get(LIST)
    assert response.status_code == 302
