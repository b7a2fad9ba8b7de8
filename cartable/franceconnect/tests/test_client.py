"""The checks of client.py with a local key set: signatures, keys, claims, userinfo, discovery.

The provider's HTTP answers are replaced by `FakeProvider` (client._get_json and requests.get for
userinfo); the browser tests cover the same code against a real provider.
"""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from cartable.franceconnect import client
from cartable.franceconnect.client import Failure, FranceConnectError, Tokens

ISSUER = "https://fc.example.test/api/v2"
CLIENT_ID = "cartable-client"
NONCE = "n" * 43


class FakeProvider:
    """Discovery and JWKS documents served from memory; counts the fetches."""

    def __init__(self) -> None:
        self.es = ECKey.generate_key("P-256", parameters={"kid": "es-1", "alg": "ES256", "use": "sig"})
        self.rs = RSAKey.generate_key(2048, parameters={"kid": "rs-1", "alg": "RS256", "use": "sig"})
        self.published = [self.es, self.rs]
        self.fetches: list[str] = []
        self.document = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "jwks_uri": f"{ISSUER}/jwks",
            "end_session_endpoint": f"{ISSUER}/session/end",
        }

    def get_json(self, url: str) -> dict:
        self.fetches.append(url)
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return dict(self.document)
        if url == f"{ISSUER}/jwks":
            return KeySet(self.published).as_dict(private=False)
        raise AssertionError(url)

    def jwks_fetches(self) -> int:
        return self.fetches.count(f"{ISSUER}/jwks")


@pytest.fixture
def provider(settings, monkeypatch) -> FakeProvider:
    settings.FRANCECONNECT_ISSUER = ISSUER
    settings.FRANCECONNECT_CLIENT_ID = CLIENT_ID
    settings.FRANCECONNECT_CLIENT_SECRET = "secret-" + "s" * 40
    settings.FRANCECONNECT_ACR_VALUES = "eidas1"
    fake = FakeProvider()
    monkeypatch.setattr(client, "_get_json", fake.get_json)
    return fake


def id_token_claims(**changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "sub-claire",
        "iat": now,
        "exp": now + 60,
        "nonce": NONCE,
        "acr": "eidas1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict, key, alg: str = "ES256", kid: str | None = "default") -> str:
    header = {"alg": alg}
    if kid == "default":
        kid = key.kid
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, claims, key)


@pytest.mark.django_db
class TestIdToken:
    def test_es256_and_rs256_accepted(self, provider):
        assert client.verify_jwt(sign(id_token_claims(), provider.es), nonce=NONCE)["sub"] == "sub-claire"
        assert client.verify_jwt(sign(id_token_claims(), provider.rs, "RS256"), nonce=NONCE)["sub"] == "sub-claire"
        assert provider.jwks_fetches() == 1  # the key set is cached

    def test_wrong_signature(self, provider):
        forger = ECKey.generate_key("P-256", parameters={"kid": "es-1"})  # the provider's kid, another key
        with pytest.raises(FranceConnectError) as caught:
            client.verify_jwt(sign(id_token_claims(), forger), nonce=NONCE)
        assert caught.value.failure is Failure.INVALID
        assert "bad signature" in caught.value.reason

    def test_tampered_payload(self, provider):
        token = sign(id_token_claims(), provider.es)
        header, _payload, signature = token.split(".")
        other = sign(id_token_claims(sub="sub-quelquun-dautre"), provider.es).split(".")[1]
        with pytest.raises(FranceConnectError, match="bad signature"):
            client.verify_jwt(f"{header}.{other}.{signature}", nonce=NONCE)

    def test_unknown_key_refetches_the_key_set_once_then_refuses(self, provider):
        stranger = ECKey.generate_key("P-256", parameters={"kid": "inconnue", "alg": "ES256"})
        client.verify_jwt(sign(id_token_claims(), provider.es), nonce=NONCE)  # key set now cached
        with pytest.raises(FranceConnectError) as caught:
            client.verify_jwt(sign(id_token_claims(), stranger), nonce=NONCE)
        assert caught.value.failure is Failure.INVALID
        assert "not in the provider's key set" in caught.value.reason
        assert provider.jwks_fetches() == 2  # cached, then re-read once for the unknown kid

    def test_rotated_key_found_after_refetch(self, provider):
        client.verify_jwt(sign(id_token_claims(), provider.es), nonce=NONCE)
        new = ECKey.generate_key("P-256", parameters={"kid": "es-2", "alg": "ES256", "use": "sig"})
        provider.published = [new]  # the provider rotated its keys
        assert client.verify_jwt(sign(id_token_claims(), new), nonce=NONCE)["sub"] == "sub-claire"
        assert provider.jwks_fetches() == 2

    @pytest.mark.parametrize("alg", ["HS256", "none", "ES384"])
    def test_other_algorithms_refused(self, provider, alg):
        if alg == "HS256":
            # The classic confusion: an HMAC keyed with something public or with the client secret.
            token = sign(id_token_claims(), OctKey.import_key("secret-" + "s" * 40), "HS256", kid="es-1")
        else:
            token = sign(id_token_claims(), provider.es).split(".")
            import base64
            import json

            header = base64.urlsafe_b64encode(json.dumps({"alg": alg, "kid": "es-1"}).encode()).rstrip(b"=").decode()
            token = f"{header}.{token[1]}.{token[2] if alg != 'none' else ''}"
        with pytest.raises(FranceConnectError, match="algorithm"):
            client.verify_jwt(token, nonce=NONCE)

    def test_encryption_keys_are_not_signing_keys(self, provider):
        key = ECKey.generate_key("P-256", parameters={"kid": "enc-1"})
        provider.published = [ECKey.import_key({**key.as_dict(private=False), "use": "enc"})]
        with pytest.raises(FranceConnectError, match="not in the provider's key set"):
            client.verify_jwt(sign(id_token_claims(), key), nonce=NONCE)

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"iss": "https://autre.example.test"}, "iss"),
            ({"aud": "un-autre-client"}, "aud"),
            ({"aud": [CLIENT_ID, "un-autre-client"]}, "azp"),
            ({"exp": ("now", -45)}, "exp"),
            ({"iat": ("now", +45)}, "iat"),
            ({"nonce": "m" * 43}, "nonce"),
            ({"nonce": None}, "nonce"),
            ({"exp": None}, "exp"),
            ({"iat": None}, "iat"),
            ({"acr": "eidas0"}, "acr"),
            ({"acr": None}, "acr"),
        ],
    )
    def test_claims_refused(self, provider, changes, reason):
        # ("now", offset): a time relative to the moment the test runs, not to its collection.
        now = int(time.time())
        changes = {k: now + v[1] if isinstance(v, tuple) else v for k, v in changes.items()}
        with pytest.raises(FranceConnectError) as caught:
            client.verify_jwt(sign(id_token_claims(**changes), provider.es), nonce=NONCE)
        assert caught.value.failure is Failure.INVALID
        assert reason in caught.value.reason

    def test_clock_leeway_below_sixty_seconds(self, provider):
        # 20 s late is clock skew (accepted); a token 60 s old with a 60 s life must be refused
        # (a 60 s leeway would still take it).
        now = int(time.time())
        client.verify_jwt(sign(id_token_claims(iat=now - 80, exp=now - 20), provider.es), nonce=NONCE)
        with pytest.raises(FranceConnectError, match="exp"):
            client.verify_jwt(sign(id_token_claims(iat=now - 100, exp=now - 40), provider.es), nonce=NONCE)
        assert client.CLOCK_LEEWAY_SECONDS < 60

    def test_azp_with_several_audiences(self, provider):
        claims = id_token_claims(aud=[CLIENT_ID, "autre"], azp=CLIENT_ID)
        assert client.verify_jwt(sign(claims, provider.es), nonce=NONCE)["azp"] == CLIENT_ID

    def test_higher_eidas_level_accepted(self, provider):
        assert client.verify_jwt(sign(id_token_claims(acr="eidas2"), provider.es), nonce=NONCE)["acr"] == "eidas2"

    def test_not_a_jwt(self, provider):
        with pytest.raises(FranceConnectError, match="compact JWS"):
            client.verify_jwt("pas-un-jeton", nonce=NONCE)


class FakeResponse:
    def __init__(self, text: str, content_type: str) -> None:
        self.text = text
        self.headers = {"Content-Type": content_type}
        self.status_code = 200

    def raise_for_status(self) -> None:
        return None


@pytest.mark.django_db
class TestUserinfo:
    def tokens(self) -> Tokens:
        return Tokens(access_token="at", id_token="it", claims={"sub": "sub-claire"})

    def answer(self, monkeypatch, text: str, content_type: str) -> list[dict]:
        calls: list[dict] = []

        def fake_get(session, url, **kwargs):
            calls.append({"url": url, "auth": session.token, **kwargs})
            return FakeResponse(text, content_type)

        monkeypatch.setattr(client.OAuth2Session, "get", fake_get)
        return calls

    def test_signed_userinfo(self, provider, monkeypatch):
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "sub-claire", "given_name": "Claire Marie"}
        calls = self.answer(monkeypatch, sign(claims, provider.es), "application/jwt; charset=utf-8")
        assert client.fetch_userinfo(self.tokens())["given_name"] == "Claire Marie"
        assert calls[0]["url"] == f"{ISSUER}/userinfo"

    def test_signed_userinfo_with_a_bad_signature(self, provider, monkeypatch):
        forger = ECKey.generate_key("P-256", parameters={"kid": "es-1"})
        self.answer(monkeypatch, sign({"iss": ISSUER, "aud": CLIENT_ID, "sub": "sub-claire"}, forger), "application/jwt")
        with pytest.raises(FranceConnectError, match="bad signature"):
            client.fetch_userinfo(self.tokens())

    def test_signed_userinfo_for_another_client(self, provider, monkeypatch):
        self.answer(monkeypatch, sign({"iss": ISSUER, "aud": "autre", "sub": "sub-claire"}, provider.es), "application/jwt")
        with pytest.raises(FranceConnectError, match="aud"):
            client.fetch_userinfo(self.tokens())

    def test_json_userinfo(self, provider, monkeypatch):
        self.answer(monkeypatch, '{"sub": "sub-claire", "family_name": "EXEMPLE"}', "application/json")
        assert client.fetch_userinfo(self.tokens())["family_name"] == "EXEMPLE"

    def test_userinfo_of_another_person(self, provider, monkeypatch):
        self.answer(monkeypatch, '{"sub": "sub-quelquun"}', "application/json")
        with pytest.raises(FranceConnectError) as caught:
            client.fetch_userinfo(self.tokens())
        assert caught.value.failure is Failure.INVALID

    def test_userinfo_nonsense(self, provider, monkeypatch):
        self.answer(monkeypatch, "<html>", "text/html")
        with pytest.raises(FranceConnectError) as caught:
            client.fetch_userinfo(self.tokens())
        assert caught.value.failure is Failure.UNAVAILABLE


@pytest.mark.django_db
class TestDiscovery:
    def test_cached(self, provider):
        client.metadata()
        client.metadata()
        assert provider.fetches == [f"{ISSUER}/.well-known/openid-configuration"]

    def test_issuer_must_match(self, provider):
        provider.document["issuer"] = "https://usurpateur.example.test"
        with pytest.raises(FranceConnectError) as caught:
            client.metadata()
        assert caught.value.failure is Failure.UNAVAILABLE

    def test_authorization_url(self, provider, settings):
        settings.SITE_URL = "https://ent.example.test"
        settings.FRANCECONNECT_SCOPES = "openid given_name family_name birthdate email"
        url = client.authorization_url("s" * 43, NONCE)
        assert url.startswith(f"{ISSUER}/authorize?")
        for part in (
            "response_type=code",
            f"client_id={CLIENT_ID}",
            "scope=openid+given_name+family_name+birthdate+email",
            "acr_values=eidas1",
            "state=" + "s" * 43,
            "nonce=" + NONCE,
            "redirect_uri=https%3A%2F%2Fent.example.test%2Ffranceconnect%2Fretour%2F",
        ):
            assert part in url

    def test_unreachable_provider(self, settings):
        settings.FRANCECONNECT_ISSUER = "http://127.0.0.1:9"  # nothing listens on the discard port
        settings.FRANCECONNECT_TIMEOUT_SECONDS = 2
        with pytest.raises(FranceConnectError) as caught:
            client.metadata()
        assert caught.value.failure is Failure.UNAVAILABLE
        assert "ConnectionError" in caught.value.reason


def test_acr_levels(settings):
    settings.FRANCECONNECT_ACR_VALUES = "eidas1"
    assert client.acr_acceptable("eidas1") and client.acr_acceptable("eidas3")
    assert not client.acr_acceptable("eidas0") and not client.acr_acceptable(None)
    settings.FRANCECONNECT_ACR_VALUES = "eidas2"
    assert not client.acr_acceptable("eidas1")
    settings.FRANCECONNECT_ACR_VALUES = ""
    assert client.acr_acceptable(None)
