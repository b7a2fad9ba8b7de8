"""The OpenID Connect token endpoint's figure for bench/sso.py (same server, same baseline).

Each request is what a relying party sends after the browser came back with a code: POST
/oidc/token/ with grant_type=authorization_code, the code, its redirect_uri and the PKCE
code_verifier, the client authenticated by HTTP Basic (its secret checked against the stored
digest: cartable.oidc.hashers). Only a 200 carrying an access token, a refresh token and an
RS256-signed ID token counts. The codes are issued in advance (as /oidc/authorize/ stores them,
with their S256 challenges; their lifetime raised for the run, since they wait before use).

bench/sso.py registers `prepare` in PREPARE and `token_endpoint` in FIGURES; measured here before
anything else (shared/IDENTITY.md): django-oauth-toolkit 3.4 with its default Argon2-hashed
secrets, ~0.003 of a plain view; with a fast hash, ~0.04.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import secrets
import threading
from pathlib import Path
from urllib.parse import urlencode

REDIRECT_URI = "https://cdi.bench.invalid/oidc/callback"
CODES_FILE = "oidc_codes.txt"
CLIENT_FILE = "oidc_client.txt"


def prepare(workdir: Path, args: argparse.Namespace) -> None:
    """A confidential client and `args.tickets` codes with their verifiers (Django child process)."""
    import datetime

    from django.utils import timezone
    from oauth2_provider.models import Application, Grant

    from cartable.accounts.models import User

    secret = secrets.token_urlsafe(48)
    app = Application.objects.create(
        name="Catalogue du CDI (banc d'essai)",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        redirect_uris=REDIRECT_URI,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    users = list(User.objects.filter(is_active=True, person__isnull=False).order_by("pk")[:1000])
    expires = timezone.now() + datetime.timedelta(days=1)
    lines, grants = [], []
    for i in range(args.tickets):
        code, verifier = secrets.token_urlsafe(30), secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        grants.append(
            Grant(
                application=app, user=users[i % len(users)], code=code, expires=expires, redirect_uri=REDIRECT_URI,
                scope="openid profile", code_challenge=challenge, code_challenge_method="S256",
                nonce=secrets.token_urlsafe(12), claims="{}",
            )
        )  # fmt: skip
        lines.append(f"{code} {verifier}")
    Grant.objects.bulk_create(grants, batch_size=2000)
    (workdir / CODES_FILE).write_text("\n".join(lines))
    (workdir / CLIENT_FILE).write_text(f"{app.client_id}:{secret}")


def token_endpoint(ctx) -> dict:
    """Code + PKCE exchanges per second, against the baseline (ctx: bench/sso.py's Context)."""
    codes = iter((ctx.workdir / CODES_FILE).read_text().split("\n"))
    basic = base64.b64encode((ctx.workdir / CLIENT_FILE).read_text().encode()).decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"}
    lock = threading.Lock()

    def request(conn: http.client.HTTPConnection) -> bool:
        with lock:
            line = next(codes, None)
        if line is None:
            raise SystemExit("out of codes: raise --tickets")
        code, verifier = line.split(" ")
        body = urlencode(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
        )
        conn.request("POST", "/oidc/token/", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        return response.status == 200 and b'"id_token"' in answer and b'"refresh_token"' in answer

    return ctx.compare("oidc_token", request)
