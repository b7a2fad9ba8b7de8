"""Clients linked to the service registry follow its rules: établissement, profiles, active."""

from __future__ import annotations

import pytest

from cartable.directory.models import Profile
from cartable.oidc.testing import authorize_params, make_client, pkce_pair, query_of
from cartable.sso.models import Service

pytestmark = pytest.mark.django_db
AUTHORIZE = "/oidc/authorize/"


def _service(etab, app, **extra) -> Service:
    extra.setdefault("allowed_profiles", [Profile.RESPONSABLE])
    return Service.objects.create(
        etablissement=etab, name="Catalogue du CDI", protocol=Service.Protocol.OIDC,
        access_url="https://cdi.exemple.fr/", oidc_application=app, **extra,
    )


def _authorize(client, app):
    _verifier, challenge = pkce_pair()
    return client.get(AUTHORIZE, authorize_params(app, challenge))


def test_allowed_profile_signs_in(client, parent, etab):
    app, _ = make_client(trusted=True)
    _service(etab, app)
    client.force_login(parent)
    assert _authorize(client, app).status_code == 302


def test_profile_not_allowed_is_refused(client, pupil, etab):
    app, _ = make_client(trusted=True)
    _service(etab, app)
    client.force_login(pupil)
    response = _authorize(client, app)
    assert response.status_code == 403
    assert "n&#x27;est pas ouvert à votre profil" in response.content.decode()


def test_member_of_another_etablissement_is_refused(client, other_etab, parent):
    app, _ = make_client(trusted=True)
    _service(other_etab, app)
    client.force_login(parent)
    assert _authorize(client, app).status_code == 403


def test_inactive_service_is_refused(client, parent, etab):
    app, _ = make_client(trusted=True)
    _service(etab, app, active=False)
    client.force_login(parent)
    response = _authorize(client, app)
    assert response.status_code == 403
    assert "n&#x27;est plus ouvert par votre établissement" in response.content.decode()


def test_consent_post_is_checked_too(client, pupil, etab):
    app, _ = make_client()
    _service(etab, app)
    client.force_login(pupil)
    _verifier, challenge = pkce_pair()
    response = client.post(AUTHORIZE, {**authorize_params(app, challenge), "allow": "on"})
    assert response.status_code == 403


def test_a_partner_service_cannot_ask_for_the_mobile_api(client, parent, etab):
    app, _ = make_client(trusted=True)
    _service(etab, app)
    client.force_login(parent)
    _verifier, challenge = pkce_pair()
    response = client.get(AUTHORIZE, authorize_params(app, challenge, "openid api"))
    assert response.status_code == 302 and query_of(response["Location"])["error"] == "invalid_scope"
    response = client.get(AUTHORIZE, authorize_params(app, challenge, "openid ent"))
    assert "code" in query_of(response["Location"])
