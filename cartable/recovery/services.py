"""Forgotten identifier and forgotten password: the rules, each state change a named function.

Forgotten identifier (`send_identifier_reminder`): every active account whose *verified*
address is the one typed is listed in one e-mail to that address. The e-mail is rendered
whether or not an account matches and queued only when one does, so the page is the same and
the work nearly so.

Forgotten password, after the identifier (`request_password_reset`), one method per account,
chosen from what the account has (`method_for`); the visitor is never told which:
  a. a verified e-mail address: a single-use link (PASSWORD_RESET, 1 hour by default);
  b. otherwise a mobile, the verified `User.mobile` or else the `Person.mobile` given to the
     school (SIECLE): a 6-digit code by SMS (PASSWORD_RESET_SMS, 30 minutes, CODE_MAX_ATTEMPTS
     tries, SMS_MAX_PER_NUMBER sends per number per RECOVERY_LOCK_SECONDS);
  c. otherwise the two secret answers.
A right code (`check_reset_code`) or right answers (`check_secret_answers`) are exchanged for a
PASSWORD_RESET token kept in the session, so the three methods end in the same step,
`reset_password`, which uses that token once and calls `set_password`.

Unknown identifiers, deactivated accounts and accounts not yet activated get nothing sent
(see `find_account`), yet every page reads the same: they get a stand-in code and two
stand-in questions (`decoys`), which fail as wrong real ones do.

Time: both branches do the same kind of work (the e-mail is rendered either way, answers are
hashed either way). With a Celery broker (production) queueing a message is a constant-time
enqueue; without one (the demo), `delivery.kick` sends right after the commit, inside the
request, and the SMTP exchange then shows in the response time of known accounts.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cartable.accounts import tokens
from cartable.accounts.backends import normalise_identifier
from cartable.accounts.models import Confirmation, User
from cartable.accounts.services import UNUSABLE_PASSWORD, audit
from cartable.delivery.services import queue_email, queue_sms, render_email
from cartable.lib import throttle
from cartable.lib.phones import is_mobile, to_e164
from cartable.lib.text import normalise_answer
from cartable.portal.services import account_limit as login_account_limit

from . import decoys, limits

Kind = Confirmation.Kind

IDENTIFIER_EMAIL = "recovery/email/identifier"
RESET_EMAIL = "recovery/email/password_reset"
CHANGED_EMAIL = "recovery/email/password_changed"


class Method(enum.Enum):
    EMAIL = "email"
    SMS = "sms"
    QUESTIONS = "questions"
    NONE = "none"


class WrongAnswers(Exception):
    """The secret answers do not match (or the account cannot be recovered this way)."""


def absolute(path: str, **query: str) -> str:
    """A link for an e-mail: the site's public address, a path, an optional query string."""
    return settings.SITE_URL + path + (f"?{urlencode(query)}" if query else "")


def lifetime_label(kind: str) -> str:
    """'1 heure', '30 minutes', '24 heures': a token lifetime in words, for pages and messages."""
    return duration_label(int(tokens.lifetime(kind).total_seconds()))


def duration_label(seconds: int) -> str:
    """A duration in words: whole hours when it is some, else minutes."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(n)d heure", "%(n)d heures", hours) % {"n": hours}
    minutes = max(1, seconds // 60)
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


# --- Who can be recovered, and how --------------------------------------------------------------


def find_account(identifier: str) -> User | None:
    """The active, activated account with this identifier, or None.

    Accounts not yet activated are left out on purpose: their way in is the letter from their
    établissement, and a reset by SMS to the number the school holds would skip the activation
    steps (charter, personal address).
    """
    user = User.objects.select_related("person").filter(username=normalise_identifier(identifier)).first()
    if user is None or not user.is_active or not user.is_activated:
        return None
    return user


def reset_mobile(user: User) -> str:
    """The number a reset code goes to: the verified mobile, else the one given to the school.

    The school's number (SIECLE) is used whatever its "accepte les SMS" flag: that flag is about
    the school's messages, and this SMS is one the person asks for, like the EduConnect
    self-registration code sent to the same number.
    """
    for raw in (user.mobile, user.person.mobile if user.person is not None else ""):
        number = to_e164(raw)
        if number and is_mobile(number):
            return number
    return ""


def method_for(user: User) -> Method:
    if user.email and user.email_verified:
        return Method.EMAIL
    if reset_mobile(user):
        return Method.SMS
    if user.secret_answers.count() >= 2:
        return Method.QUESTIONS
    return Method.NONE


# --- Forgotten identifier ----------------------------------------------------------------------


def send_identifier_reminder(address: str) -> int:
    """E-mail the identifiers of the accounts whose verified address is `address`; returns how many."""
    address = address.strip()
    accounts = list(
        User.objects.filter(email__iexact=address, email_verified=True, is_active=True)
        .select_related("person")
        .order_by("username")
    )
    context = {
        "address": address,
        "accounts": [
            {
                "identifier": account.username,
                "name": account.get_full_name(),
                "login_link": absolute(reverse("portal:login"), identifiant=account.username),
            }
            for account in accounts
        ],
        "password_link": absolute(reverse("recovery:password")),
    }
    if not accounts:
        render_email(IDENTIFIER_EMAIL, context)  # the same work as queueing it, and nothing sent
        return 0
    with transaction.atomic():
        queue_email(accounts[0].email, IDENTIFIER_EMAIL, context)
        for account in accounts:
            audit("identifier.reminder_sent", actor=None, target=account)
    return len(accounts)


# --- Forgotten password: sending the link or the code -------------------------------------------


def _reset_context(identifier: str, name: str, token: str) -> dict[str, str]:
    return {
        "identifier": identifier,
        "name": name,
        "link": absolute(reverse("recovery:password_link", args=[token])),
        "lifetime": lifetime_label(Kind.PASSWORD_RESET),
        "again_link": absolute(reverse("recovery:password")),
    }


@transaction.atomic
def request_password_reset(identifier: str) -> Method:
    """Send what the account's method calls for (see the module docstring); returns the method.

    The caller must not show the method: it is returned for the audit and the tests.
    """
    ident = normalise_identifier(identifier)
    user = find_account(ident)
    method = method_for(user) if user is not None else Method.NONE
    if user is not None and method is Method.EMAIL:
        token = tokens.issue_link(user, Kind.PASSWORD_RESET, {"method": Method.EMAIL.value})
        queue_email(user.email, RESET_EMAIL, _reset_context(user.username, user.get_full_name(), token))
    else:
        # Rendered and dropped: the same work as a real e-mail, so timing says nothing.
        render_email(RESET_EMAIL, _reset_context(ident, "", "x" * 43))
    if user is not None and method is Method.SMS:
        _send_reset_code(user)
    else:
        decoys.issue_code(ident)
    if user is not None:
        audit("password_reset.requested", actor=None, target=user, method=method.value)
    return method


def _send_reset_code(user: User) -> None:
    number = reset_mobile(user)
    if throttle.retry_after(limits.sms_per_number(), number):
        # Said nowhere: the page is the same for everyone. The user can retry later.
        audit("password_reset.sms_limit", actor=None, target=user)
        return
    throttle.record_failure(limits.sms_per_number(), number)
    code = tokens.issue_code(user, Kind.PASSWORD_RESET_SMS)
    queue_sms(
        number,
        _(
            "Cartable : votre code pour choisir un nouveau mot de passe est %(code)s. Il est valable "
            "%(lifetime)s. Ne le communiquez à personne."
        )
        % {"code": code, "lifetime": lifetime_label(Kind.PASSWORD_RESET_SMS)},
    )


# --- Forgotten password: proving it is you -----------------------------------------------------


def _reset_token(user: User, method: Method) -> str:
    """The PASSWORD_RESET token a right code or right answers are exchanged for (session only)."""
    return tokens.issue_link(user, Kind.PASSWORD_RESET, {"method": method.value})


def check_reset_code(identifier: str, code: str) -> str:
    """Exchange a right SMS code for a reset token; raises the TokenError to show otherwise.

    Not one transaction: a wrong code's try is counted by `redeem_code` just before it raises,
    and a rollback would forget it.
    """
    ident = normalise_identifier(identifier)
    user = find_account(ident)
    if user is None or method_for(user) is not Method.SMS:
        decoys.redeem_code(ident)  # always raises, as a wrong real code would
    assert user is not None
    latest = Confirmation.objects.filter(user=user, kind=Kind.PASSWORD_RESET_SMS).order_by("-created_at").first()
    if latest is None or latest.created_at <= timezone.now() - decoys.horizon():
        raise tokens.TokenInvalid()  # what a stand-in says once forgotten (decoys.horizon)
    tokens.redeem_code(user, Kind.PASSWORD_RESET_SMS, code)
    audit("password_reset.code_ok", actor=None, target=user)
    return _reset_token(user, Method.SMS)


def questions_for(identifier: str) -> list[int]:
    """The two question numbers to ask: the account's own, else stand-ins fixed for the identifier."""
    ident = normalise_identifier(identifier)
    return _asked(ident, find_account(ident))


def _asked(ident: str, user: User | None) -> list[int]:
    if user is not None:
        own = sorted(user.secret_answers.values_list("question", flat=True))
        if len(own) >= 2:
            return own[:2]
    return decoys.questions(ident)


def check_secret_answers(identifier: str, answers: Sequence[str]) -> str:
    """Exchange the two right answers for a reset token; raises WrongAnswers otherwise.

    Only an account whose method is the questions (no verified e-mail, no mobile) may be
    recovered this way: where a link or a code can be sent, two answers that relatives may
    know must not be enough.
    """
    ident = normalise_identifier(identifier)
    user = find_account(ident)
    stored = {a.question: a.answer_hash for a in user.secret_answers.all()} if user is not None else {}
    asked = _asked(ident, user)
    # Every answer is hashed, known account or not (against an unusable hash, check_password
    # still hashes once), and all are checked before deciding: time does not tell which failed.
    results = [
        check_password(normalise_answer(answer), stored.get(question, UNUSABLE_PASSWORD))
        for question, answer in zip(asked, answers, strict=True)
    ]
    if user is None or not all(results) or method_for(user) is not Method.QUESTIONS:
        raise WrongAnswers()
    audit("password_reset.answers_ok", actor=None, target=user)
    return _reset_token(user, Method.QUESTIONS)


# --- Setting the new password ------------------------------------------------------------------


def reset_user(token: str) -> User:
    """The account a reset token (from the session) is for; raises TokenError if it cannot be used."""
    confirmation = tokens.peek_link(Kind.PASSWORD_RESET, token)
    assert confirmation.user is not None
    return confirmation.user


@transaction.atomic
def reset_password(token: str, password: str) -> User:
    """Use the reset token once and set the new (already validated) password."""
    confirmation = tokens.redeem_link(Kind.PASSWORD_RESET, token)
    user = confirmation.user
    assert user is not None
    set_password(user, password, reset_method=confirmation.payload.get("method", Method.EMAIL.value))
    return user


@transaction.atomic
def set_password(user: User, password: str, *, reset_method: str = "") -> None:
    """Give `user` a new password (already validated against the policy).

    Every pending reset link or code dies, the login lock on the identifier is lifted (the
    person just proved who they are), the change is audited, and a notice goes to the verified
    address: if someone else did it, the owner learns it. Other sessions end by themselves
    (Django ties a session to the password hash). `reset_method` is empty for a change made
    in "Mon compte".
    """
    now = timezone.now()
    user.set_password(password)
    user.save(update_fields=["password"])
    Confirmation.objects.filter(
        user=user, kind__in=[Kind.PASSWORD_RESET, Kind.PASSWORD_RESET_SMS], used_at__isnull=True
    ).update(used_at=now)
    throttle.reset(login_account_limit(), user.username)
    audit("password.reset" if reset_method else "password.changed", actor=user, target=user, method=reset_method)
    if user.email and user.email_verified:
        queue_email(
            user.email,
            CHANGED_EMAIL,
            {
                "identifier": user.username,
                "name": user.get_full_name(),
                "reset": bool(reset_method),
                "at": now,
                "password_link": absolute(reverse("recovery:password"), identifiant=user.username),
            },
        )
