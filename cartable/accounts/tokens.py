"""Links and codes sent to people: random, stored as a keyed digest, single use, expiring.

    token = issue_link(user, Kind.PASSWORD_RESET)          # goes into an e-mailed URL
    confirmation = redeem_link(Kind.PASSWORD_RESET, token)  # raises TokenError (French message)

    code = issue_code(user, Kind.PASSWORD_RESET_SMS)        # 6 digits, goes into an SMS
    confirmation = redeem_code(user, Kind.PASSWORD_RESET_SMS, code)

Digests are HMAC-SHA256 keyed with SECRET_KEY: a 6-digit code has too little entropy for a
plain hash (a copy of the table would give every code in a million tries), and a keyed digest
also lets a link be looked up by its digest in one indexed query. Issuing a new token of a kind
voids the person's earlier unused ones of that kind, so only the last letter, link or SMS works.
Redeeming is a single conditional UPDATE, so two simultaneous uses cannot both succeed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Confirmation, User

Kind = Confirmation.Kind


class TokenError(Exception):
    """A link or code that cannot be used; `str(error)` is the French message to show."""

    code = "invalid"


class TokenInvalid(TokenError):
    code = "invalid"

    def __init__(self) -> None:
        super().__init__(_("Ce lien ou ce code n'est pas valide. Vérifiez-le ou demandez-en un nouveau."))


class TokenExpired(TokenError):
    code = "expired"

    def __init__(self) -> None:
        super().__init__(_("Ce lien ou ce code a expiré. Demandez-en un nouveau."))


class TokenUsed(TokenError):
    code = "used"

    def __init__(self) -> None:
        super().__init__(_("Ce lien ou ce code a déjà été utilisé. Demandez-en un nouveau si besoin."))


class TooManyAttempts(TokenError):
    code = "attempts"

    def __init__(self) -> None:
        super().__init__(_("Trop d'essais avec ce code. Demandez-en un nouveau."))


def lifetime(kind: str) -> datetime.timedelta:
    """Every lifetime in one table (settings.TOKEN_LIFETIMES_SECONDS)."""
    return datetime.timedelta(seconds=settings.TOKEN_LIFETIMES_SECONDS[kind])


def digest(token: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), token.strip().encode(), hashlib.sha256).hexdigest()


def _issue(user: User | None, kind: str, token: str, payload: dict[str, Any] | None) -> None:
    now = timezone.now()
    with transaction.atomic():
        if user is not None:
            # Only the newest link or code of a kind works.
            Confirmation.objects.filter(user=user, kind=kind, used_at__isnull=True).update(used_at=now)
        Confirmation.objects.create(
            user=user,
            kind=kind,
            digest=digest(f"{kind}:{user.pk if user else ''}:{token}" if _is_code(token) else token),
            payload=payload or {},
            created_at=now,
            expires_at=now + lifetime(kind),
        )


def _is_code(token: str) -> bool:
    return token.isdigit() and len(token) <= 8


def issue_link(user: User | None, kind: str, payload: dict[str, Any] | None = None) -> str:
    """A 256-bit random token for a link; returns it in clear (stored only as a digest)."""
    token = secrets.token_urlsafe(32)
    _issue(user, kind, token, payload)
    return token


def issue_code(user: User, kind: str, payload: dict[str, Any] | None = None) -> str:
    """A 6-digit code for an SMS; its digest is bound to the user and kind (codes collide)."""
    code = f"{secrets.randbelow(10**6):06d}"
    _issue(user, kind, code, payload)
    return code


def _use(confirmation: Confirmation) -> Confirmation:
    now = timezone.now()
    if confirmation.used_at is not None:
        raise TokenUsed()
    if now >= confirmation.expires_at:
        raise TokenExpired()
    claimed = Confirmation.objects.filter(pk=confirmation.pk, used_at__isnull=True).update(used_at=now)
    if claimed != 1:  # someone else used it a moment ago
        raise TokenUsed()
    confirmation.used_at = now
    return confirmation


def peek_link(kind: str, token: str) -> Confirmation:
    """The confirmation behind a link, checked but not used (to show a form before using it)."""
    confirmation = Confirmation.objects.select_related("user").filter(kind=kind, digest=digest(token)).first()
    if confirmation is None:
        raise TokenInvalid()
    if confirmation.used_at is not None:
        raise TokenUsed()
    if timezone.now() >= confirmation.expires_at:
        raise TokenExpired()
    return confirmation


def redeem_link(kind: str, token: str) -> Confirmation:
    """Use a link's token once; raises TokenInvalid, TokenExpired or TokenUsed."""
    confirmation = Confirmation.objects.select_related("user").filter(kind=kind, digest=digest(token)).first()
    if confirmation is None:
        raise TokenInvalid()
    return _use(confirmation)


def redeem_code(user: User, kind: str, code: str) -> Confirmation:
    """Use the user's newest code of `kind`; wrong codes count, and too many void it."""
    confirmation = Confirmation.objects.filter(user=user, kind=kind).order_by("-created_at", "-pk").first()
    if confirmation is None:
        raise TokenInvalid()
    if confirmation.used_at is not None:
        raise TokenUsed()
    if timezone.now() >= confirmation.expires_at:
        raise TokenExpired()
    if confirmation.attempts >= settings.CODE_MAX_ATTEMPTS:
        raise TooManyAttempts()
    code = (code or "").strip().replace(" ", "")
    if not hmac.compare_digest(confirmation.digest, digest(f"{kind}:{user.pk}:{code}")):
        Confirmation.objects.filter(pk=confirmation.pk).update(attempts=F("attempts") + 1)
        if confirmation.attempts + 1 >= settings.CODE_MAX_ATTEMPTS:
            raise TooManyAttempts()
        raise TokenInvalid()
    return _use(confirmation)
