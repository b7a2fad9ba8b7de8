"""Token endpoint, ID token claims, userinfo, refresh: the rules on each side of each limit."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from cartable.oidc.claims import pairwise_sub
from cartable.oidc.models import RedeemedCode
from cartable.oidc.testing import exchange, make_client, obtain_code, obtain_tokens

pytestmark = pytest.mark.django_db
TOKEN = "/oidc/token/"
USERINFO = "/oidc/userinfo/"


def _payload(jwt: str) -> dict:
    body = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _userinfo(token: str):
    return Client().get(USERINFO, HTTP_AUTHORIZATION=f"Bearer {token}")


def _refresh(app, secret, refresh_token):
    return Client().post(
        TOKEN,
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": app.client_id, "client_secret": secret},
    )


def test_client_secret_is_stored_with_the_fast_hasher_and_checked(parent):
    app, secret = make_client(trusted=True)
    stored = Application.objects.get(pk=app.pk).client_secret
    assert stored.startswith("client_secret_sha256$") and secret not in stored
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app)
    assert exchange(Client(), app, "pas-le-bon-secret", code, verifier).status_code == 401
    code, verifier = obtain_code(browser, app)
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    response = Client().post(
        TOKEN,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uris, "code_verifier": verifier},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200


def test_id_token_and_userinfo_claims_by_scope(parent, etab):
    parent.email, parent.email_verified = "claire@exemple.fr", True
    parent.save()
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret, "openid profile email ent")
    claims = _payload(tokens["id_token"])
    assert claims["iss"] == "http://testserver/oidc"
    assert claims["aud"] == app.client_id
    assert claims["sub"] == pairwise_sub(app.client_id, parent)
    assert claims["given_name"] == "Claire" and claims["family_name"] == "EXEMPLE"
    assert claims["email"] == "claire@exemple.fr" and claims["email_verified"] is True
    assert claims["ent_profiles"] == ["responsable"] and claims["ent_uai"] == ["0999999X"]
    assert claims["ent_memberships"] == [{"uai": "0999999X", "profile": "responsable"}]
    userinfo = _userinfo(tokens["access_token"])
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == claims["sub"] and userinfo.json()["ent_uai"] == ["0999999X"]
    assert "password" not in json.dumps(userinfo.json())


def test_openid_alone_gives_only_the_subject(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret, "openid")
    assert set(_userinfo(tokens["access_token"]).json()) == {"sub"}


def test_email_is_absent_while_unverified(parent):
    parent.email, parent.email_verified = "claire@exemple.fr", False
    parent.save()
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret, "openid email")
    assert "email" not in _payload(tokens["id_token"])
    info = _userinfo(tokens["access_token"]).json()
    assert "email" not in info and "email_verified" not in info


def test_sub_is_stable_per_client_and_differs_between_clients(parent):
    first, first_secret = make_client("Service A", trusted=True)
    second, second_secret = make_client("Service B", trusted=True)
    a1 = _payload(obtain_tokens(parent, first, first_secret)["id_token"])["sub"]
    a2 = _payload(obtain_tokens(parent, first, first_secret)["id_token"])["sub"]
    b = _payload(obtain_tokens(parent, second, second_secret)["id_token"])["sub"]
    assert a1 == a2 != b
    assert parent.username not in (a1, b) and str(parent.pk) not in (a1, b)


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(parent):
    """DOT deletes a grant once exchanged, so a replay answers invalid_grant; on its own DOT would
    leave the first exchange's tokens alive. RFC 6749 §4.1.2 says they SHOULD be revoked: the
    first to exchange a leaked code may be its thief. Cartable revokes them (RedeemedCode)."""
    app, secret = make_client(trusted=True)
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app)
    first = exchange(Client(), app, secret, code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    refreshed = _refresh(app, secret, tokens["refresh_token"]).json()  # the family, rotated once
    assert _userinfo(refreshed["access_token"]).status_code == 200
    replay = exchange(Client(), app, secret, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert _userinfo(refreshed["access_token"]).status_code == 401
    assert _refresh(app, secret, refreshed["refresh_token"]).status_code == 400
    assert RedeemedCode.objects.filter(digest=RedeemedCode.digest_of(code)).exists()
    assert code not in str(list(RedeemedCode.objects.values()))


def test_other_codes_of_the_same_person_are_not_touched_by_a_replay(parent):
    app, secret = make_client(trusted=True)
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app)
    assert exchange(Client(), app, secret, code, verifier).status_code == 200
    other = obtain_tokens(parent, app, secret)
    exchange(Client(), app, secret, code, verifier)
    assert _userinfo(other["access_token"]).status_code == 200


def test_redeemed_codes_are_forgotten_after_a_day(parent):
    app, secret = make_client(trusted=True)
    obtain_tokens(parent, app, secret)
    assert RedeemedCode.objects.count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, minutes=1)):
        obtain_tokens(parent, app, secret)
    assert RedeemedCode.objects.count() == 1


def test_a_code_expires_after_a_minute(parent):
    app, secret = make_client(trusted=True)
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        assert exchange(Client(), app, secret, code, verifier).status_code == 400
    code, verifier = obtain_code(browser, app)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=50)):
        assert exchange(Client(), app, secret, code, verifier).status_code == 200


def test_access_token_expires_after_ten_minutes(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret)
    assert tokens["expires_in"] == 600
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=590)):
        assert _userinfo(tokens["access_token"]).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=601)):
        response = _userinfo(tokens["access_token"])
        assert response.status_code == 401
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_refresh_rotates_and_a_replayed_refresh_token_kills_the_family(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret, "openid profile")
    refreshed = _refresh(app, secret, tokens["refresh_token"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert _userinfo(new["access_token"]).json()["given_name"] == "Claire"
    assert _userinfo(tokens["access_token"]).status_code == 401  # the old access token is gone
    replay = _refresh(app, secret, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # Reuse protection: the replay revoked the rotated token too (a thief and the client share it).
    assert _refresh(app, secret, new["refresh_token"]).status_code == 400


def test_revoked_refresh_token_is_refused(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret)
    response = Client().post(
        "/oidc/revoke_token/",
        {"token": tokens["refresh_token"], "token_type_hint": "refresh_token", "client_id": app.client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert _refresh(app, secret, tokens["refresh_token"]).status_code == 400


def test_refresh_token_expires_thirty_days_after_its_access_token(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret)
    expires = AccessToken.objects.get(user=parent).expires
    with time_machine.travel(expires + datetime.timedelta(days=30, seconds=-60)):
        assert _refresh(app, secret, tokens["refresh_token"]).status_code == 200
    tokens = obtain_tokens(parent, app, secret)
    expires = AccessToken.objects.filter(user=parent).latest("created").expires
    with time_machine.travel(expires + datetime.timedelta(days=30, seconds=1)):
        assert _refresh(app, secret, tokens["refresh_token"]).status_code == 400


def test_an_account_disabled_after_consent_gets_nothing_more(parent):
    app, secret = make_client(trusted=True)
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app)
    tokens = obtain_tokens(parent, app, secret)
    parent.is_active = False
    parent.save()
    assert exchange(Client(), app, secret, code, verifier).status_code == 400
    assert _refresh(app, secret, tokens["refresh_token"]).status_code == 400
    assert _userinfo(tokens["access_token"]).status_code == 401


def test_a_merged_account_gets_nothing_more(parent, pupil):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret)
    parent.merged_into = pupil
    parent.save()
    assert _refresh(app, secret, tokens["refresh_token"]).status_code == 400
    assert _userinfo(tokens["access_token"]).status_code == 401


def test_tokens_are_stored_as_digests_only(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret)
    assert not AccessToken.objects.filter(token=tokens["access_token"]).exists()
    assert not RefreshToken.objects.filter(token=tokens["refresh_token"]).exists()


def test_public_client_uses_pkce_without_secret(pupil):
    app, _ = make_client("Application mobile", public=True, trusted=True)
    browser = Client()
    browser.force_login(pupil)
    code, verifier = obtain_code(browser, app, "openid api")
    response = exchange(Client(), app, "", code, verifier)
    assert response.status_code == 200 and "refresh_token" in response.json()
    code, verifier = obtain_code(browser, app, "openid api")
    assert exchange(Client(), app, "", code, None).status_code == 400


def test_a_code_is_bound_to_its_client_and_redirect_uri(parent):
    app, secret = make_client(trusted=True)
    other, other_secret = make_client("Autre service", trusted=True)
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app)
    stolen = exchange(Client(), other, other_secret, code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    data = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/ailleurs",
        "client_id": app.client_id, "client_secret": secret, "code_verifier": verifier,
    }
    assert Client().post(TOKEN, data).status_code == 400
    # Neither attempt used the code up.
    assert exchange(Client(), app, secret, code, verifier).status_code == 200


def test_nonce_comes_back_in_the_id_token(parent):
    app, secret = make_client(trusted=True)
    browser = Client()
    browser.force_login(parent)
    code, verifier = obtain_code(browser, app, nonce="le-nonce-du-service")
    tokens = exchange(Client(), app, secret, code, verifier).json()
    claims = _payload(tokens["id_token"])
    assert claims["nonce"] == "le-nonce-du-service"
    assert AccessToken.objects.get(id_token__jti=claims["jti"]).user == parent


def test_access_tokens_are_accepted_in_the_header_only(parent):
    app, secret = make_client(trusted=True)
    tokens = obtain_tokens(parent, app, secret)
    assert Client().get(USERINFO, {"access_token": tokens["access_token"]}).status_code == 400
    assert Client().post(USERINFO, {"access_token": tokens["access_token"]}).status_code == 400
    assert _userinfo(tokens["access_token"]).status_code == 200
    # POST with the header works too, without any CSRF token (no cookie is involved).
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(USERINFO, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 200


def test_app_authorized_receivers_still_get_the_token(parent):
    from oauth2_provider.signals import app_authorized

    received = []

    def receiver(sender, request, token, **kwargs):
        received.append(token)

    app_authorized.connect(receiver)
    try:
        app, secret = make_client(trusted=True)
        obtain_tokens(parent, app, secret)
    finally:
        app_authorized.disconnect(receiver)
    assert len(received) == 1 and received[0].user == parent


def test_the_nightly_task_deletes_expired_tokens_and_keeps_live_ones(parent, settings):
    from cartable.oidc.tasks import clear_tokens

    assert "cartable.oidc.clear_tokens" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    app, secret = make_client(trusted=True)
    obtain_tokens(parent, app, secret)
    assert AccessToken.objects.count() == 1 and RefreshToken.objects.count() == 1
    clear_tokens()
    assert AccessToken.objects.count() == 1  # still valid: kept
    refresh_seconds = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=refresh_seconds + 3600)):
        clear_tokens()
    assert AccessToken.objects.count() == 0 and RefreshToken.objects.count() == 0
