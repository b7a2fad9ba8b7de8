"""Stand-ins for identifiers that get no SMS code or have no secret questions.

The forgotten-password pages must not tell whether an identifier exists, nor which method its
account uses. So an identifier that gets no code still "has" one here, and fails exactly like
a real code typed wrong (`tokens.redeem_code`): "pas valide" twice, then "trop d'essais",
"expiré" after its lifetime, a fresh one at each resend within the same per-SMS limit. Its
state is kept in the cache, keyed on the identifier rather than on the session, because a real
code outlives the session too: an attacker who starts again in a new session must see the
same answers either way.

An identifier without questions is shown two of them, chosen from an HMAC of the identifier
with SECRET_KEY: the same two every time, different for each identifier, not computable
without the key.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import NoReturn

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from cartable.accounts import tokens
from cartable.accounts.models import Confirmation
from cartable.accounts.questions import QUESTIONS
from cartable.lib import throttle


def _mac(purpose: str, identifier: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{identifier}".encode(), hashlib.sha256).digest()


def questions(identifier: str) -> list[int]:
    """Two different question numbers (sorted), fixed for `identifier`."""
    mac = _mac("recovery-questions", identifier)
    count = len(QUESTIONS)
    first = int.from_bytes(mac[:8], "big") % count
    second = int.from_bytes(mac[8:16], "big") % (count - 1)
    if second >= first:
        second += 1
    return sorted([first, second])


def horizon() -> datetime.timedelta:
    """How long a code is remembered after it is sent, real or stand-in.

    Past its lifetime a code says "expiré"; past this horizon (twice the lifetime) both a real
    code and a stand-in say "pas valide", so an old code tells nothing either.
    """
    return 2 * tokens.lifetime(Confirmation.Kind.PASSWORD_RESET_SMS)


def _key(identifier: str) -> str:
    return "recovery-decoy-code:" + _mac("recovery-decoy-code", identifier).hex()[:40]


def _sends() -> throttle.Limit:
    # The same number of sends as a real phone number allows (limits.sms_per_number).
    return throttle.Limit("sms-decoy", settings.SMS_MAX_PER_NUMBER, settings.RECOVERY_LOCK_SECONDS)


def issue_code(identifier: str) -> None:
    """What `tokens.issue_code` and the per-number limit do, for an identifier that gets no SMS."""
    if throttle.retry_after(_sends(), identifier):
        return
    throttle.record_failure(_sends(), identifier)
    state = {"created": timezone.now().timestamp(), "attempts": 0}
    cache.set(_key(identifier), state, timeout=int(horizon().total_seconds()))


def redeem_code(identifier: str) -> NoReturn:
    """Fail as `tokens.redeem_code` fails for a wrong code, in the same order of checks."""
    state = cache.get(_key(identifier))
    now = timezone.now().timestamp()
    # Forgotten at the horizon, to the second, whatever the cache backend's own rounding.
    if state is None or now >= state["created"] + horizon().total_seconds():
        raise tokens.TokenInvalid()
    created = state["created"]
    if now >= created + tokens.lifetime(Confirmation.Kind.PASSWORD_RESET_SMS).total_seconds():
        raise tokens.TokenExpired()
    if state["attempts"] >= settings.CODE_MAX_ATTEMPTS:
        raise tokens.TooManyAttempts()
    state["attempts"] += 1
    remaining = max(int(created + horizon().total_seconds() - now), 1)
    cache.set(_key(identifier), state, timeout=remaining)
    if state["attempts"] >= settings.CODE_MAX_ATTEMPTS:
        raise tokens.TooManyAttempts()
    raise tokens.TokenInvalid()

