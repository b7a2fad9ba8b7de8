"""The limits on recovery requests, all read from settings (RECOVERY_*, SMS_MAX_PER_NUMBER).

Each is built on every call, as the portal's login limits are, so that a test changing a
setting sees the new value.

- per client address: every request that sends something or checks a secret (forgotten
  identifier, forgotten password, resend, secret answers), RECOVERY_MAX_PER_ADDRESS per
  RECOVERY_LOCK_SECONDS;
- per account: requests naming one identifier or one e-mail address, RECOVERY_MAX_PER_ACCOUNT;
  wrong secret answers for one identifier, RECOVERY_MAX_PER_ACCOUNT too;
- per phone number: SMS codes sent to it (recovery and "Mon compte" alike), SMS_MAX_PER_NUMBER.

The per-account limits are keyed on what was typed, whether or not an account has it, so
being blocked says nothing about whether the account exists.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import ngettext

from cartable.lib import throttle


def per_address() -> throttle.Limit:
    return throttle.Limit("recovery-address", settings.RECOVERY_MAX_PER_ADDRESS, settings.RECOVERY_LOCK_SECONDS)


def per_account() -> throttle.Limit:
    return throttle.Limit("recovery-account", settings.RECOVERY_MAX_PER_ACCOUNT, settings.RECOVERY_LOCK_SECONDS)


def wrong_answers() -> throttle.Limit:
    return throttle.Limit("recovery-answers", settings.RECOVERY_MAX_PER_ACCOUNT, settings.RECOVERY_LOCK_SECONDS)


def sms_per_number() -> throttle.Limit:
    return throttle.Limit("sms-number", settings.SMS_MAX_PER_NUMBER, settings.RECOVERY_LOCK_SECONDS)


def spend(request: HttpRequest, *subjects: tuple[throttle.Limit, str]) -> int:
    """Count one request against the client address and each (limit, subject).

    Returns 0 when the request may go on, else the seconds to wait (and nothing is counted:
    a blocked request does not extend the block).
    """
    pairs = [(per_address(), throttle.client_address(request)), *subjects]
    wait = max(throttle.retry_after(limit, subject) for limit, subject in pairs)
    if wait:
        return wait
    for limit, subject in pairs:
        throttle.record_failure(limit, subject)
    return 0


def blocked(request: HttpRequest, *subjects: tuple[throttle.Limit, str]) -> int:
    """Seconds to wait before trying again (0: not blocked); counts nothing."""
    pairs = [(per_address(), throttle.client_address(request)), *subjects]
    return max(throttle.retry_after(limit, subject) for limit, subject in pairs)


def retry_message(seconds: int) -> str:
    minutes = throttle.minutes_label(seconds)
    return ngettext(
        "Trop de demandes. Réessayez dans %(minutes)d minute.",
        "Trop de demandes. Réessayez dans %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
