"""The mobile API: bearer tokens of the provider only, the `api` scope, French JSON errors."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from cartable.conftest import make_user
from cartable.directory.models import Guardianship, Profile
from cartable.oidc.testing import make_client, obtain_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def mobile(db):
    app, _ = make_client("Application mobile", public=True, trusted=True)
    return app


def _get(path: str, token: str | None = None, client: Client | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return (client or Client()).get(f"/api/v1/{path}", **headers)


def test_me(mobile, parent, etab):
    token = obtain_tokens(parent, mobile, "", "openid api")["access_token"]
    response = _get("me", token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "identifier": "claire.exemple",
        "given_name": "Claire",
        "family_name": "EXEMPLE",
        "profiles": ["responsable"],
        "etablissements": [{"uai": "0999999X", "name": "Collège des Exemples", "profiles": ["responsable"]}],
    }


def test_a_parent_sees_only_their_children(mobile, parent, pupil, etab, division):
    other_child = make_user("tom.autre", Profile.ELEVE, etab, first_name="Tom", last_name="AUTRE", division=division)
    other_parent = make_user("luc.autre", Profile.RESPONSABLE, etab, first_name="Luc", last_name="AUTRE")
    Guardianship.objects.create(pupil=other_child.person, guardian=other_parent.person, etablissement=etab, level=1)
    token = obtain_tokens(parent, mobile, "", "openid api")["access_token"]
    assert _get("children", token).json() == [
        {"given_name": "Léa", "family_name": "EXEMPLE", "uai": "0999999X", "etablissement": "Collège des Exemples", "division": "6e A"}
    ]
    other_token = obtain_tokens(other_parent, mobile, "", "openid api")["access_token"]
    assert [c["given_name"] for c in _get("children", other_token).json()] == ["Tom"]


def test_a_merged_parent_sees_the_children_of_the_absorbed_account(mobile, parent, etab, division):
    second_child = make_user("zoe.exemple", Profile.ELEVE, etab, first_name="Zoé", last_name="EXEMPLE", division=division)
    absorbed = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE")
    Guardianship.objects.create(pupil=second_child.person, guardian=absorbed.person, etablissement=etab, level=1)
    absorbed.merged_into, absorbed.is_active = parent, False
    absorbed.save()
    token = obtain_tokens(parent, mobile, "", "openid api")["access_token"]
    assert [c["given_name"] for c in _get("children", token).json()] == ["Léa", "Zoé"]


@pytest.mark.parametrize("who", ["pupil", "teacher"])
def test_pupils_and_teachers_have_no_children(mobile, who, request):
    user = request.getfixturevalue(who)
    token = obtain_tokens(user, mobile, "", "openid api")["access_token"]
    assert _get("children", token).json() == []


def test_no_token(db):
    response = _get("me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="cartable"'
    assert response.json() == {"error": "no_token", "detail": "Authentification requise : jeton d'accès absent."}


def test_bad_token(db):
    response = _get("children", "pas-un-jeton")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["detail"] == "Jeton d'accès invalide, expiré ou révoqué."


def test_token_without_the_api_scope(mobile, parent):
    token = obtain_tokens(parent, mobile, "", "openid profile")["access_token"]
    response = _get("me", token)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert "portée « api » requise" in response.json()["detail"]


def test_expired_token(mobile, parent):
    token = obtain_tokens(parent, mobile, "", "openid api")["access_token"]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        assert _get("me", token).status_code == 401


def test_a_session_is_not_an_api_credential(parent):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(parent)
    assert _get("me", client=browser).status_code == 401


def test_the_token_of_a_disabled_account_stops_working(mobile, parent):
    token = obtain_tokens(parent, mobile, "", "openid api")["access_token"]
    parent.is_active = False
    parent.save()
    assert _get("me", token).status_code == 401


def test_openapi_document_is_valid_and_declares_bearer_auth(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/me", "/api/v1/children"} <= set(document["paths"])
    schemes = document["components"]["securitySchemes"]
    assert list(schemes.values()) == [{"type": "http", "scheme": "bearer"}]
    assert set(document["paths"]["/api/v1/me"]["get"]["responses"]) == {"200", "401", "403"}
    # No interactive page: it would load scripts from a CDN.
    assert Client().get("/api/v1/docs").status_code == 404


def test_unknown_address_answers_json(db):
    response = Client().get("/api/v1/inconnu")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Cette adresse n'existe pas dans l'API."}
