"""Clients in the staff console: secret shown once then hashed; a secretary sees her own only."""

from __future__ import annotations

import re

import pytest
from oauth2_provider.models import Application

from cartable.accounts.models import User
from cartable.oidc.testing import make_client
from cartable.sso.models import Service

pytestmark = pytest.mark.django_db
ADD = "/console/oauth2_provider/application/add/"
LIST = "/console/oauth2_provider/application/"


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin.ent", "Motdepasse-2026")


def _oidc_service(etab, name="Catalogue du CDI") -> Service:
    return Service.objects.create(
        etablissement=etab, name=name, protocol=Service.Protocol.OIDC, access_url="https://cdi.exemple.fr/",
        allowed_profiles=["eleve"],
    )


def _form(secret: str = "", **extra) -> dict:
    return {
        "name": "Catalogue du CDI",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "client_secret": secret,
        "redirect_uris": "https://cdi.exemple.fr/oidc/callback",
        "post_logout_redirect_uris": "",
        **extra,
    }


def test_superuser_creates_a_client_whose_secret_is_shown_once(client, superuser):
    client.force_login(superuser)
    page = client.get(ADD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Copiez ce secret maintenant" in html
    secret = re.search(r'name="client_secret" value="([^"]+)"', html).group(1)
    assert len(secret) == 64
    response = client.post(ADD, _form(secret))
    assert response.status_code == 302, response.content.decode()[:3000]
    app = Application.objects.get()
    assert app.client_secret.startswith("client_secret_sha256$")
    assert app.algorithm == "RS256" and app.authorization_grant_type == "authorization-code"
    change = client.get(f"{LIST}{app.pk}/change/").content.decode()
    assert secret not in change and 'name="client_secret"' not in change


def test_public_client_has_no_secret(client, superuser):
    client.force_login(superuser)
    client.post(ADD, _form("ignored", client_type=Application.CLIENT_PUBLIC, name="Application mobile"))
    assert Application.objects.get().client_secret == ""


def test_secretary_manages_only_her_etablissement_clients(client, secretary, etab, other_etab):
    mine, _ = make_client("Le CDI")
    theirs, _ = make_client("Autre CDI")
    unlinked, _ = make_client("Application mobile")
    service = _oidc_service(etab)
    service.oidc_application = mine
    service.save()
    other = _oidc_service(other_etab)
    other.oidc_application = theirs
    other.save()
    client.force_login(secretary)
    listing = client.get(LIST).content.decode()
    assert "Le CDI" in listing and "Autre CDI" not in listing and "Application mobile" not in listing
    assert client.get(f"{LIST}{mine.pk}/change/").status_code == 200
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code in (302, 403, 404)
    assert client.get(f"{LIST}{unlinked.pk}/change/").status_code in (302, 403, 404)


def test_secretary_adds_a_client_for_a_registry_entry_of_her_etablissement(client, secretary, etab, other_etab):
    service = _oidc_service(etab)
    foreign = _oidc_service(other_etab, "Ailleurs")
    client.force_login(secretary)
    page = client.get(ADD).content.decode()
    assert "Catalogue du CDI" in page and "Ailleurs" not in page
    # Without a registry entry: refused (her client must belong to her établissement).
    assert client.post(ADD, _form("s" * 64)).status_code == 200
    assert client.post(ADD, _form("s" * 64, service=foreign.pk)).status_code == 200
    assert not Application.objects.exists()
    response = client.post(ADD, _form("s" * 64, service=service.pk, skip_authorization="on"))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.oidc_application is not None and service.oidc_application.skip_authorization


def test_other_secretary_sees_nothing(client, other_secretary, etab):
    mine, _ = make_client("Le CDI")
    service = _oidc_service(etab)
    service.oidc_application = mine
    service.save()
    client.force_login(other_secretary)
    assert "Le CDI" not in client.get(LIST).content.decode()


def test_console_pages_are_in_french(client, superuser):
    app, _ = make_client("Le CDI")
    client.force_login(superuser)
    listing = client.get(LIST).content.decode()
    assert "Identifiant du client (client_id)" in listing and "Service de confiance" in listing
    change = client.get(f"{LIST}{app.pk}/change/").content.decode()
    assert app.client_id in change
    assert "Adresses de retour (redirect_uri)" in change
    assert "Services OpenID Connect" in client.get("/console/").content.decode()
