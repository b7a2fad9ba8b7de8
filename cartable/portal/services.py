"""Logging in and out, read top to bottom.

attempt_login(), the rules of one login attempt, in order:
  1. Refuse without looking at the password while the identifier or the client address is
     blocked (too many failures): the message says when to retry.
  2. Fetch the account once and check the password once. An unknown identifier and a wrong
     password give the same message and cost the same single Argon2 computation (a throwaway
     hash for unknown identifiers, as Django's ModelBackend does), so neither words nor timing
     tell whether an identifier exists.
  3. A deactivated account, or provisional credentials past their deadline, is told so only
     when the password is right; with a wrong password it gets the generic message (otherwise
     anyone could probe which identifiers exist and are deactivated).
  4. A failure counts against the identifier (normalised, whether it exists or not) and the
     address; a success clears the identifier's counter. The address counter is not cleared by
     a success: one valid account must not let an attacker reset it between guesses.
  5. Right provisional credentials of an account never activated do not log in: the answer is
     ACTIVATE, and the caller starts the activation flow (cartable.activation).

start_session() then logs the user in (Django rotates the session key) and sets the session's
lifetime from the portal choice and « Conserver l'identification »; end_session() flushes it.
refusal_message() words every refusal, for the login form and the activation's start page.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from enum import Enum

from django.conf import settings
from django.contrib.auth import login, logout
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cartable.accounts.backends import normalise_identifier
from cartable.accounts.charters import current_ref
from cartable.accounts.models import CharterAcceptance, User
from cartable.directory.models import Etablissement, Membership
from cartable.lib import throttle

from .choice import PortalChoice, store_in_session

# Present only in the session of a user logged in from a public computer: the last time (epoch
# seconds) the session was seen, for PublicSessionIdleMiddleware.
LAST_SEEN_KEY = "cartable.portal.last_seen"
# Set after an idle logout so the login page can say why the user is there.
IDLE_LOGOUT_KEY = "cartable.portal.idle_logout"


def account_limit() -> throttle.Limit:
    # Built on each call: tests (and nothing else) change these settings at run time.
    return throttle.Limit("login-account", settings.LOGIN_MAX_FAILURES_PER_ACCOUNT, settings.LOGIN_ACCOUNT_LOCK_SECONDS)


def address_limit() -> throttle.Limit:
    return throttle.Limit("login-address", settings.LOGIN_MAX_FAILURES_PER_ADDRESS, settings.LOGIN_ADDRESS_LOCK_SECONDS)


class Outcome(Enum):
    OK = "ok"
    INVALID = "invalid"  # unknown identifier or wrong password: one message for both
    BLOCKED = "blocked"  # too many failures: retry later
    DISABLED = "disabled"  # right password, but the account is deactivated or its credentials expired
    ACTIVATE = "activate"  # right provisional password of an account never activated: activate it first
    MERGED = "merged"  # right password of an account merged into another (regroupement): use that one


@dataclass
class LoginResult:
    outcome: Outcome
    user: User | None = None
    retry_after: int = 0  # seconds, for BLOCKED
    # (établissement name, support contact) pairs, for DISABLED.
    contacts: list[tuple[str, str]] = field(default_factory=list)
    # For OK: the current charter's version when the account has accepted it (None: not known).
    accepted_charter_version: int | None = None


def credentials_expired(user: User, now: datetime.datetime | None = None) -> bool:
    """Provisional credentials never used to activate the account, and past their deadline."""
    deadline = user.activation_deadline
    if user.activated_at is not None or deadline is None:
        return False
    return (now or timezone.now()) > deadline


def support_contacts(user: User) -> list[tuple[str, str]]:
    """Where a locked-out user should turn: their établissements' support contacts.

    Departed memberships count too: a deactivated account has often left its établissement,
    which is still the one to ask.
    """
    if not user.person_id:
        return []
    etab_ids = Membership.objects.filter(person_id=user.person_id).values("etablissement_id")
    return [(e.name, e.support_contact) for e in Etablissement.objects.filter(pk__in=etab_ids).order_by("name")]


def blocked_for(request: HttpRequest, identifier: str) -> int:
    """Seconds before this identifier may be tried again from this client (0: not blocked)."""
    return throttle.retry_after_many(
        [
            (account_limit(), normalise_identifier(identifier)),
            (address_limit(), throttle.client_address(request)),
        ]
    )


def attempt_login(request: HttpRequest, identifier: str, password: str) -> LoginResult:
    """Check one login attempt (the rules are in the module docstring). Does not log in."""
    ident = normalise_identifier(identifier)
    address = throttle.client_address(request)

    # 1. Blocked: the password is not even checked.
    wait, (ident_failures, _address_failures) = throttle.check_many(
        [(account_limit(), ident), (address_limit(), address)]
    )
    if wait:
        return LoginResult(Outcome.BLOCKED, retry_after=wait)

    # 2 and 3. Not through authenticate(): ModelBackend would fetch the account again, and it
    # refuses an inactive account without saying whether the password was right (asking again
    # would cost a second Argon2 computation, which timing would reveal).
    accounts = User.objects.filter(username=ident)
    charter = current_ref()
    if charter is not None:
        # Whether the current charter is accepted, in the same query: the login then needs no
        # other read before the home page (activation.services.charter_to_accept).
        acceptance = CharterAcceptance.objects.filter(user_id=OuterRef("pk"), charter_id=charter.id)
        accounts = accounts.annotate(accepted_charter=Exists(acceptance))
    account = accounts.first()
    user: User | None = None
    if account is None:
        User().set_password(password)
    elif account.check_password(password):  # also rehashes when the Argon2 settings changed
        if not account.is_active and account.merged_into_id is not None:
            # Said only after the right password: nobody else learns that the accounts were merged.
            return LoginResult(Outcome.MERGED, user=account)
        if not account.is_active:
            return LoginResult(Outcome.DISABLED, user=account, contacts=support_contacts(account))
        account.backend = settings.AUTHENTICATION_BACKENDS[0]  # type: ignore[attr-defined]  # as authenticate() sets it
        user = account

    if user is not None and credentials_expired(user):
        return LoginResult(Outcome.DISABLED, user=user, contacts=support_contacts(user))

    # 4. Count failures, clear the identifier's counter on success.
    if user is None:
        throttle.record_failure(account_limit(), ident)
        throttle.record_failure(address_limit(), address)
        wait = blocked_for(request, ident)
        if wait:
            # That failure reached the limit: say so now rather than at the next attempt.
            return LoginResult(Outcome.BLOCKED, retry_after=wait)
        return LoginResult(Outcome.INVALID)
    if ident_failures:
        throttle.reset(account_limit(), ident)
    # 5. Provisional credentials: the activation comes first.
    if user.activated_at is None:
        return LoginResult(Outcome.ACTIVATE, user=user)
    accepted = charter.version if charter is not None and getattr(user, "accepted_charter", False) else None
    return LoginResult(Outcome.OK, user=user, accepted_charter_version=accepted)


def refusal_message(result: LoginResult) -> str:
    """The French message for a refused attempt (BLOCKED, DISABLED or INVALID)."""
    if result.outcome is Outcome.BLOCKED:
        minutes = throttle.minutes_label(result.retry_after)
        return ngettext(
            "Trop de tentatives. Réessayez dans %(minutes)d minute.",
            "Trop de tentatives. Réessayez dans %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    if result.outcome is Outcome.DISABLED:
        return _("Votre compte est désactivé : contactez votre établissement.")
    if result.outcome is Outcome.MERGED and result.user is not None and result.user.merged_into is not None:
        return _(
            "Ce compte a été regroupé avec votre compte « %(identifier)s » : connectez-vous désormais avec "
            "l'identifiant %(identifier)s."
        ) % {"identifier": result.user.merged_into.username}
    return _("Identifiant ou mot de passe incorrect.")


def start_session(
    request: HttpRequest, user: User, choice: PortalChoice | None, *, keep_signed_in: bool = False
) -> None:
    """Log `user` in and give the session the lifetime the portal choice asks for.

    Without a choice (a QR code opened the login form directly) the session is treated as
    public: forgetting a login on a shared computer is worse than logging in again at home.
    « Conserver l'identification » (`keep_signed_in`) is honoured only on a remembered choice
    (the person's own computer): the session then lasts REMEMBER_ME_DAYS.
    """
    login(request, user)  # rotates the session key (no session fixation)
    if choice is not None:
        store_in_session(request, choice)
    if choice is not None and choice.remember:
        seconds = settings.REMEMBER_ME_DAYS * 86400 if keep_signed_in else settings.PRIVATE_SESSION_SECONDS
        request.session.set_expiry(seconds)
        request.session.pop(LAST_SEEN_KEY, None)
    else:
        request.session.set_expiry(0)  # the cookie dies with the browser…
        request.session[LAST_SEEN_KEY] = int(time.time())  # …and the session after some idle time


def end_session(request: HttpRequest) -> None:
    """Log out: the session is flushed (server side and cookie)."""
    logout(request)
