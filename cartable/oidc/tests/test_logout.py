"""RP-initiated logout (end_session) without an ID token: the person is asked, in French."""

from __future__ import annotations

import pytest

from cartable.oidc.testing import POST_LOGOUT_URI, make_client, obtain_tokens

pytestmark = pytest.mark.django_db
LOGOUT = "/oidc/logout/"


def test_without_id_token_hint_the_person_confirms(client, parent):
    client.force_login(parent)
    page = client.get(LOGOUT)
    assert page.status_code == 200
    assert "Se déconnecter de Cartable ?" in page.content.decode()
    stay = client.post(LOGOUT, {})
    assert "_auth_user_id" in client.session and stay["Location"] == "/accueil/"
    response = client.post(LOGOUT, {"allow": "on"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_with_id_token_hint_logs_out_at_once_and_ends_the_tokens(client, parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret, "openid")
    client.force_login(parent)
    response = client.get(LOGOUT, {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT_URI})
    assert response.status_code == 302 and response["Location"] == POST_LOGOUT_URI
    assert "_auth_user_id" not in client.session
    assert client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401


def test_a_forged_id_token_hint_is_refused(client, parent):
    client.force_login(parent)
    response = client.get(LOGOUT, {"id_token_hint": "abc.def.ghi"})
    assert response.status_code == 400
    assert "La demande de déconnexion de ce service est invalide" in response.content.decode()
    assert "_auth_user_id" in client.session
