"""State changes of the activation and of the charter, each a named function.

The flow itself (which step comes when) is in views.py; what it gathers lives in the session
(state.py) until one of the two final writes:

- `activate_account()` writes everything at once: password, e-mail (verified) or secret answers,
  charter acceptance, `activated_at`. Whoever wins its conditional UPDATE activates the account;
  anyone else gets `ActivationRefused` and nothing is written: never a half-activated account.
- with an e-mail, `send_activation_link()` first puts everything into ONE Confirmation (payload:
  password hash, e-mail, charter version) and e-mails its link; `confirm_activation_link()` uses
  the link and calls `activate_account()` in the same transaction.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cartable.accounts import tokens
from cartable.accounts.charters import current_ref
from cartable.accounts.models import Charter, CharterAcceptance, Confirmation, SecretAnswer, User
from cartable.accounts.persons import person_ids
from cartable.accounts.services import audit
from cartable.delivery.services import queue_email
from cartable.directory.models import Etablissement, Guardianship, Membership, Person
from cartable.lib import throttle
from cartable.lib.text import normalise_answer

from . import state

# --- Why an activation cannot be written ------------------------------------------------------


class ActivationRefused(Exception):
    """The account cannot be activated now; `str(error)` is the French message to show."""


class AlreadyActivated(ActivationRefused):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Ce compte vient d'être activé (peut-être depuis un autre onglet ou un autre appareil). "
                "Connectez-vous avec le mot de passe que vous avez choisi."
            )
        )


class CredentialsChanged(ActivationRefused):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Votre établissement vous a remis de nouveaux identifiants provisoires depuis le début de cette "
                "activation. Recommencez avec ceux de la dernière lettre reçue."
            )
        )


class AccountDisabled(ActivationRefused):
    def __init__(self) -> None:
        super().__init__(_("Votre compte est désactivé : contactez votre établissement."))


# --- Starting: who activates, and what they will be asked -------------------------------------


def children_to_check(user: User) -> list[Person]:
    """The children whose birth dates a parent types: those they are the legal representative of.

    Children whose birth date the school does not know cannot be checked and are left out.
    """
    ids = person_ids(user)  # with the persons of accounts merged into this one (regroupement)
    if not ids:
        return []
    pupil_ids = Guardianship.objects.filter(guardian_id__in=ids, level=Guardianship.Level.LEGAL).values("pupil_id")
    return list(
        Person.objects.filter(pk__in=pupil_ids, birth_date__isnull=False).order_by("birth_date", "first_name", "pk")
    )


def begin_activation(request: HttpRequest, user: User, *, reset: bool = False) -> state.Pending:
    """Put a pending activation of `user` into the session (the account is NOT logged in).

    Called once the provisional password has been checked (portal login or the start page).
    The session key is rotated first: a session planted in the person's browser beforehand must
    not let someone else finish their activation.
    """
    request.session.cycle_key()
    for key in (state.SENT_KEY, state.DONE_KEY, state.LINK_KEY):
        request.session.pop(key, None)
    charter = Charter.current()
    pending = state.Pending(
        user_id=user.pk,
        issued_at=user.credentials_issued_at.isoformat() if user.credentials_issued_at else "",
        started_at=time.time(),
        reset=reset,
        charter_version=charter.version if charter is not None else None,
        has_children=bool(children_to_check(user)),
    )
    state.save(request, pending)
    # Nothing of a pending activation outlives the browser (it may be a shared computer).
    request.session.set_expiry(0)
    return pending


def pending_account(pending: state.Pending, *, now: datetime.datetime | None = None) -> User:
    """The account a pending activation is for, if it may still be activated (else the reason)."""
    user = User.objects.select_related("person").filter(pk=pending.user_id).first()
    if user is None:
        raise CredentialsChanged()
    _check_can_activate(user, _issued_at(pending.issued_at), now or timezone.now())
    return user


def _issued_at(value: str) -> datetime.datetime | None:
    return parse_datetime(value) if value else None


def _check_can_activate(user: User, issued_at: datetime.datetime | None, now: datetime.datetime) -> None:
    if user.activated_at is not None:
        raise AlreadyActivated()
    if user.credentials_issued_at != issued_at:
        raise CredentialsChanged()
    deadline = user.activation_deadline
    if not user.is_active or (deadline is not None and now > deadline):
        raise AccountDisabled()


# --- Step b: the children's birth dates -------------------------------------------------------


def birth_date_limit() -> throttle.Limit:
    return throttle.Limit("activation-birth-date", settings.BIRTHDATE_MAX_FAILURES, settings.BIRTHDATE_LOCK_SECONDS)


@dataclass(frozen=True)
class BirthDateCheck:
    ok: bool
    retry_after: int = 0  # seconds, when blocked
    remaining: int = 0  # tries left before the block, after a wrong answer


def check_birth_dates(user: User, typed: dict[int, datetime.date]) -> BirthDateCheck:
    """Do the typed dates match every child's? One wrong submission counts one failure.

    Blocked accounts are refused without comparing. The answer never says which child was
    wrong, nor the right date.
    """
    subject = f"user:{user.pk}"
    wait = throttle.retry_after(birth_date_limit(), subject)
    if wait:
        return BirthDateCheck(ok=False, retry_after=wait)
    children = children_to_check(user)
    if children and all(typed.get(child.pk) == child.birth_date for child in children):
        throttle.reset(birth_date_limit(), subject)
        return BirthDateCheck(ok=True)
    failures = throttle.record_failure(birth_date_limit(), subject)
    wait = throttle.retry_after(birth_date_limit(), subject)
    return BirthDateCheck(ok=False, retry_after=wait, remaining=max(settings.BIRTHDATE_MAX_FAILURES - failures, 0))


# --- Step d: secret answers -------------------------------------------------------------------


def hash_answer(answer: str) -> str:
    """Secret answers are compared without case, accents or extra spaces, and stored hashed."""
    return make_password(normalise_answer(answer))


# --- The final write --------------------------------------------------------------------------


def activate_account(
    user_id: int,
    *,
    issued_at: datetime.datetime | None,
    password_hash: str,
    charter_version: int | None,
    email: str = "",
    answers: Sequence[tuple[int, str]] = (),
    now: datetime.datetime | None = None,
) -> User:
    """Activate the account in one transaction: everything is written, or nothing.

    The account is claimed by one conditional UPDATE (still not activated, still active, still
    the same provisional credentials): of two simultaneous activations exactly one updates the
    row; the other finds it already activated and raises `AlreadyActivated`. With an e-mail the
    address is stored verified (the person clicked the link sent to it) and any secret answers
    are removed; without one, the two secret answers are stored.
    """
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_related("person").filter(pk=user_id).first()
        if user is None:
            raise CredentialsChanged()
        _check_can_activate(user, issued_at, now)
        claimed = User.objects.filter(
            pk=user_id, activated_at__isnull=True, is_active=True, credentials_issued_at=issued_at
        ).update(
            password=password_hash,
            activated_at=now,
            email=email,
            email_verified=bool(email),
            deactivated_at=None,
            deactivation_reason="",
        )
        if claimed != 1:
            user.refresh_from_db()
            _check_can_activate(user, issued_at, now)  # raises the reason
            raise AlreadyActivated()  # pragma: no cover - the row changed and changed back
        SecretAnswer.objects.filter(user_id=user_id).delete()
        SecretAnswer.objects.bulk_create(
            [SecretAnswer(user_id=user_id, question=question, answer_hash=hashed, created_at=now) for question, hashed in answers]
        )
        charter = Charter.objects.filter(version=charter_version).first() if charter_version is not None else None
        if charter is not None:
            CharterAcceptance.objects.get_or_create(user_id=user_id, charter=charter, defaults={"accepted_at": now})
        user.refresh_from_db()
        audit(
            "account.activated",
            actor=user,
            target=user,
            uai=uai_of(user),
            method="email" if email else "secret_questions",
            charter=charter_version,
        )
    return user


# --- With an e-mail: the link, then its confirmation ------------------------------------------


def send_activation_link(
    user: User, *, issued_at: datetime.datetime | None, password_hash: str, email: str, charter_version: int | None
) -> Confirmation:
    """Keep what the activation will write in one Confirmation and e-mail its link.

    Issuing a link voids the account's earlier unused ones (only the last e-mail works). The
    e-mail is written to the outbox in the same transaction and sent after the commit.
    """
    with transaction.atomic():
        token = tokens.issue_link(
            user,
            Confirmation.Kind.ACTIVATION_EMAIL,
            payload={
                "password_hash": password_hash,
                "email": email,
                "charter_version": charter_version,
                "issued_at": issued_at.isoformat() if issued_at else "",
            },
        )
        confirmation = Confirmation.objects.get(digest=tokens.digest(token))
        valid_until = confirmation.expires_at
        if user.activation_deadline is not None:
            valid_until = min(valid_until, user.activation_deadline)
        queue_email(
            email,
            "activation/email/activation",
            {
                "name": user.get_full_name(),
                "username": user.username,
                "link": f"{settings.SITE_URL}/activation/confirmer/{token}/",
                "valid_until": valid_until,
                "contacts": support_contacts(user),
            },
        )
        audit("activation.link_sent", actor=user, target=user, uai=uai_of(user))
    return confirmation


def peek_activation_link(token: str, *, for_user: User | None = None) -> Confirmation:
    """The confirmation behind an activation link, checked but not used (raises TokenError).

    A link opened while logged in as someone else is refused as invalid.
    """
    confirmation = tokens.peek_link(Confirmation.Kind.ACTIVATION_EMAIL, token)
    if for_user is not None and confirmation.user_id != for_user.pk:
        raise tokens.TokenInvalid()
    return confirmation


def confirm_activation_link(token: str, *, for_user: User | None = None) -> User:
    """Use an activation link and activate the account, in one transaction.

    Raises TokenError (invalid, expired, used) or ActivationRefused; in both cases nothing is
    written. A link opened while logged in as someone else is refused as invalid.
    """
    with transaction.atomic():
        peek_activation_link(token, for_user=for_user)
        confirmation = tokens.redeem_link(Confirmation.Kind.ACTIVATION_EMAIL, token)
        if confirmation.user_id is None:
            raise tokens.TokenInvalid()
        payload = confirmation.payload
        return activate_account(
            confirmation.user_id,
            issued_at=_issued_at(payload.get("issued_at", "")),
            password_hash=payload["password_hash"],
            charter_version=payload.get("charter_version"),
            email=payload["email"],
        )


# --- The charter after activation -------------------------------------------------------------

# The charter version this session's user is known to have accepted (saves a query per page).
CHARTER_SESSION_KEY = "cartable.charter"


def charter_to_accept(request: HttpRequest) -> Charter | None:
    """The current charter if the logged-in user has not accepted it yet, else None.

    The current version comes from the cache (accounts/charters.py); the acceptance is looked
    up only when the session does not already know it, so a guarded page costs no query.
    """
    ref = current_ref()
    if ref is None or request.session.get(CHARTER_SESSION_KEY) == ref.version:
        return None
    if CharterAcceptance.objects.filter(user_id=cast(int, request.user.pk), charter_id=ref.id).exists():
        request.session[CHARTER_SESSION_KEY] = ref.version
        return None
    return Charter.objects.filter(pk=ref.id).first()


def note_charter_accepted(request: HttpRequest, version: int) -> None:
    """Record in the session that its user has accepted charter `version` (known at login)."""
    request.session[CHARTER_SESSION_KEY] = version


def accept_charter(request: HttpRequest, user: User, charter: Charter) -> None:
    CharterAcceptance.objects.get_or_create(user=user, charter=charter)
    request.session[CHARTER_SESSION_KEY] = charter.version
    audit("charter.accepted", actor=user, target=user, uai=uai_of(user), version=charter.version)


# --- Small helpers ----------------------------------------------------------------------------


def uai_of(user: User) -> str:
    """The établissement an audit line about `user` is filed under (a current one first)."""
    if user.person_id is None:
        return ""
    rows = Membership.objects.filter(person_id=user.person_id).order_by(F("departed_at").desc(nulls_first=True), "pk")
    uai = rows.values_list("etablissement__uai", flat=True).first()
    return uai or ""


def support_contacts(user: User) -> list[tuple[str, str]]:
    """(établissement name, support contact) of the person's établissements that have one."""
    if user.person_id is None:
        return []
    ids = Membership.objects.filter(person_id=user.person_id).values("etablissement_id")
    return [
        (etab.name, etab.support_contact)
        for etab in Etablissement.objects.filter(pk__in=ids).exclude(support_contact="").order_by("name")
    ]
