"""Fixtures of the FranceConnect tests: a real OpenID Connect provider on 127.0.0.1.

`oidc_provider` starts node's oidc-provider (provider/server.mjs, version pinned in
provider/package-lock.json, installed by scripts/ensure-oidc-provider.sh) with one test client
whose redirect and logout URIs are on pytest-django's live server, and points the
FRANCECONNECT_* settings (and SITE_URL) at it. Without node or its node_modules the tests are
skipped, except in CI where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID = "cartable-ent-test"

# The provider's accounts: a login at the provider (its own password) and the claims it releases.
FC_PASSWORD = "fc-Motdepasse-2026"
ACCOUNTS = {
    "claire": {
        "password": FC_PASSWORD,
        "given_name": "Claire Marie",
        "family_name": "EXEMPLE",
        "birthdate": "1984-06-02",
        "email": "claire.exemple@example.org",
    },
    "inconnu": {
        "password": FC_PASSWORD,
        "given_name": "Jean",
        "family_name": "INCONNU",
        "birthdate": "1979-01-30",
        "email": "jean.inconnu@example.org",
    },
}


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the FranceConnect tests (scripts/ensure-oidc-provider.sh).")
    pytest.skip(reason)


def start_provider(redirect_uri: str, post_logout_redirect_uri: str, signing_alg: str = "ES256") -> OidcProvider:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is missing")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("oidc-provider is not installed (bash scripts/ensure-oidc-provider.sh)")
    secret = secrets.token_urlsafe(32)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NODE_ENV": "test",
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_POST_LOGOUT_REDIRECT_URI": post_logout_redirect_uri,
        "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
        "OIDC_SIGNING_ALG": signing_alg,
    }
    process = subprocess.Popen(
        [str(node), "server.mjs"],
        cwd=PROVIDER_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    # The provider prints its issuer once it listens (RSA key generation takes a moment).
    ready, _w, _x = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline() if ready else ""
    if not line:
        stop_provider(process)
        raise RuntimeError("the test OpenID Connect provider did not start")
    return OidcProvider(issuer=json.loads(line)["issuer"], client_id=CLIENT_ID, client_secret=secret, process=process)


def stop_provider(process: subprocess.Popen) -> None:
    if process.stdin is not None:
        process.stdin.close()  # server.mjs exits when its standard input ends
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def oidc_provider(live_server, settings) -> Iterator[OidcProvider]:
    """The provider, with Cartable (the live server) configured as its client."""
    settings.SITE_URL = live_server.url
    provider = start_provider(
        live_server.url + "/franceconnect/retour/", live_server.url + "/franceconnect/deconnecte/"
    )
    settings.FRANCECONNECT_ISSUER = provider.issuer
    settings.FRANCECONNECT_CLIENT_ID = provider.client_id
    settings.FRANCECONNECT_CLIENT_SECRET = provider.client_secret
    settings.FRANCECONNECT_SCOPES = "openid given_name family_name birthdate email"
    settings.FRANCECONNECT_ACR_VALUES = "eidas1"
    settings.FRANCECONNECT_TIMEOUT_SECONDS = 10
    try:
        yield provider
    finally:
        stop_provider(provider.process)
