"""The rules of the self-registration, each a named function (the order of steps is in flow.py).

Who may register (`find_accounts`): a responsable on file — a person with a current
responsable profile or a legal (level 1) link to a pupil — whose names match what was typed
(or the provider's claims) and whose `Person.mobile`, normalised (lib/phones), is the typed
number; and whose account exists, is not merged into another, is not a console account, and
was not deactivated by the staff (an account deactivated only because its provisional
credentials expired may register: that is what this path is for). The same human recorded
twice (two Person rows with the same names and number) gives several accounts: the activated
one is kept, else the oldest, and the others are merged into it at the end.

Limits (every one read from settings on each call, as recovery's are):
  - codes: REGISTRATION_MAX_CODES per registration, SMS_MAX_PER_NUMBER per number per
    RECOVERY_LOCK_SECONDS (the recovery's own counter: one number gets at most that many
    codes from Cartable, whatever asked for them), CODE_MAX_ATTEMPTS tries per code;
  - failures: every start and every wrong code or birth date counts against the client
    address and the typed number, REGISTRATION_MAX_FAILURES per REGISTRATION_LOCK_SECONDS.
    Starts count whether or not they match, so being blocked says nothing either;
  - birth dates: activation's own counter (BIRTHDATE_MAX_FAILURES per account): switching
    between activation and registration gives no more tries.

No enumeration. A start that matches nobody keeps a stand-in code in the session, which fails
exactly as a real code typed wrong does (`check_code`): « pas valide », then « trop d'essais »
after CODE_MAX_ATTEMPTS, « expiré » after the code's lifetime, a fresh one at each resend
within the same limits. Both branches do the same kind of work (an HMAC, one query, the same
throttle writes); the SMS itself is sent after the response (delivery outbox).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import importlib
import logging
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cartable.accounts import tokens
from cartable.accounts.models import (
    Charter,
    CharterAcceptance,
    Confirmation,
    ExternalIdentity,
    User,
)
from cartable.accounts.persons import person_ids
from cartable.accounts.services import UNUSABLE_PASSWORD, audit
from cartable.activation import expiry
from cartable.activation.services import birth_date_limit, uai_of
from cartable.delivery.services import queue_email, queue_sms
from cartable.directory.models import Guardianship, Membership, Person, Profile
from cartable.lib import throttle
from cartable.lib.phones import to_e164
from cartable.lib.text import normalise_name
from cartable.linking.models import LinkReport
from cartable.linking.services import file_report
from cartable.portal.services import account_limit as login_account_limit
from cartable.recovery import limits as recovery_limits
from cartable.recovery.services import absolute, lifetime_label

from .flow import ExternalClaims, Registration

logger = logging.getLogger(__name__)

Kind = Confirmation.Kind
NOTICE_EMAIL = "registration/email/registered"


class RegistrationStopped(Exception):
    """The registration cannot go on; the person sees the one generic message (views.stopped)."""


class RegistrationRefused(Exception):
    """The person proved who they are, but the account cannot be completed; `str()` says why."""


# --- Limits -----------------------------------------------------------------------------------


def per_address() -> throttle.Limit:
    return throttle.Limit("registration-address", settings.REGISTRATION_MAX_FAILURES, settings.REGISTRATION_LOCK_SECONDS)


def per_number() -> throttle.Limit:
    return throttle.Limit("registration-number", settings.REGISTRATION_MAX_FAILURES, settings.REGISTRATION_LOCK_SECONDS)


def _subjects(request: HttpRequest, number: str) -> list[tuple[throttle.Limit, str]]:
    return [(per_address(), throttle.client_address(request)), (per_number(), number)]


def blocked(request: HttpRequest, number: str) -> bool:
    """Too many failures from this address or for this number (nothing is counted)."""
    return bool(throttle.retry_after_many(_subjects(request, number)))


def count_failure(request: HttpRequest, number: str) -> bool:
    """Count one failure against the address and the number; True when now blocked."""
    for limit, subject in _subjects(request, number):
        throttle.record_failure(limit, subject)
    return blocked(request, number)


# --- Step 1: who is registering ---------------------------------------------------------------


def names_match(person: Person, *, last_name: str, first_names: Sequence[str]) -> bool:
    """Last name = the person's birth or usage name; one of `first_names` = their first name.

    Case, accents, hyphens, apostrophes and extra spaces are ignored (lib.text.normalise_name).
    """
    last = normalise_name(last_name)
    if not last or last not in {normalise_name(person.last_name), normalise_name(person.usage_name)} - {""}:
        return False
    first = normalise_name(person.first_name)
    return bool(first) and any(normalise_name(name) == first for name in first_names)


def given_name_runs(given_name: str) -> list[str]:
    """FranceConnect's « Jean Pierre Marie » -> every run of consecutive first names:
    « Jean », « Jean Pierre », « Pierre », … (the school may have « Jean-Pierre »)."""
    parts = given_name.split()
    return [" ".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]


def may_register(user: User) -> bool:
    """The account rules of the module docstring (names and number are checked elsewhere)."""
    if user.merged_into_id is not None or user.is_staff or user.is_superuser:
        return False
    return user.is_active or user.deactivation_reason == expiry.REASON


def _number_pattern(number: str) -> str:
    """A regex finding `number` however the school typed it (« 06 99 00 11 22 », « +33 6… »):
    its last nine digits, anything but digits between them, at the end of the field."""
    digits = re.sub(r"\D", "", number)[-9:]
    return r"\D*".join(digits) + r"\D*$"


def find_accounts(number: str, *, last_name: str, first_names: Sequence[str]) -> list[User]:
    """The accounts that may register with these names and this number, the one to keep first.

    The database finds the few persons whose number ends with the same digits (one indexed-free
    scan, done by the database); names, the exact number and the account rules are checked
    here on those few.
    """
    if not number:
        return []
    responsables = Q(memberships__profile=Profile.RESPONSABLE, memberships__departed_at__isnull=True) | Q(
        child_links__level=Guardianship.Level.LEGAL
    )
    candidates = (
        Person.objects.filter(mobile__regex=_number_pattern(number))
        .filter(responsables)
        .distinct()
        .order_by("pk")
    )
    accounts: list[User] = []
    for person in candidates:
        if to_e164(person.mobile) != number or not names_match(person, last_name=last_name, first_names=first_names):
            continue
        account = User.objects.filter(person=person).first()
        if account is not None and may_register(account):
            accounts.append(account)
    return sort_kept_first(accounts)


def sort_kept_first(accounts: Iterable[User]) -> list[User]:
    """The activated account first (earliest activation), else the oldest (date_joined, pk)."""
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    return sorted(
        accounts,
        key=lambda u: (u.activated_at is None, u.activated_at or far, u.date_joined, u.pk),
    )


def matching_accounts(registration: Registration) -> list[User]:
    """find_accounts() for what this registration typed, or the provider's claims."""
    claims = registration.external
    if claims is not None:
        return find_accounts(
            registration.number, last_name=claims.family_name, first_names=given_name_runs(claims.given_name)
        )
    return find_accounts(registration.number, last_name=registration.last_name, first_names=[registration.first_name])


# --- Step 1 and resend: the code --------------------------------------------------------------


def codes_exhausted(registration: Registration) -> bool:
    """No more codes for this registration, or for this number (counts nothing)."""
    return registration.codes_sent >= settings.REGISTRATION_MAX_CODES or bool(
        throttle.retry_after(recovery_limits.sms_per_number(), registration.number)
    )


def send_code(registration: Registration) -> None:
    """Send a code to the number if it matched an account, else keep a stand-in (same work).

    The caller has checked `codes_exhausted`. The registration is updated (not saved).
    """
    throttle.record_failure(recovery_limits.sms_per_number(), registration.number)
    registration.codes_sent += 1
    registration.code_at = time.time()
    registration.decoy_attempts = 0
    users = User.objects.filter(pk__in=registration.user_ids[:1])
    user = users.first()
    if user is None:
        # What issue_code does, with nothing usable stored: a random code, its HMAC, one query
        # and one write (the stand-in's trace in the cache, as recovery.decoys keeps its own).
        code = f"{secrets.randbelow(10**6):06d}"
        mac = tokens.digest(f"{Kind.REGISTRATION_CODE}:{registration.number}:{code}")
        Confirmation.objects.filter(user=None, kind=Kind.REGISTRATION_CODE, used_at__isnull=True).exists()
        lifetime = int(tokens.lifetime(Kind.REGISTRATION_CODE).total_seconds())
        cache.set(f"registration-decoy:{mac[:40]}", registration.code_at, timeout=lifetime)
        return
    with transaction.atomic():
        code = tokens.issue_code(user, Kind.REGISTRATION_CODE)
        queue_sms(
            registration.number,
            _(
                "Cartable : votre code pour créer votre compte est %(code)s. Il est valable %(lifetime)s. "
                "Ne le communiquez à personne."
            )
            % {"code": code, "lifetime": lifetime_label(Kind.REGISTRATION_CODE)},
        )
        audit("registration.code_sent", actor=None, target=user, uai=uai_of(user))


def check_code(registration: Registration, code: str) -> None:
    """Accept the right code (returns), or raise the TokenError a wrong one gets.

    The stand-in of an unmatched registration fails as tokens.redeem_code does, in the same
    order of checks. Updates `registration.decoy_attempts` (the caller saves it).
    """
    user = User.objects.filter(pk__in=registration.user_ids[:1]).first()
    if user is not None:
        tokens.redeem_code(user, Kind.REGISTRATION_CODE, code)
        return
    # The same lookup redeem_code makes, for the same time.
    Confirmation.objects.filter(user=None, kind=Kind.REGISTRATION_CODE).order_by("-created_at", "-pk").first()
    hmac.compare_digest(tokens.digest(code or ""), hashlib.sha256(b"").hexdigest())
    if time.time() >= registration.code_at + tokens.lifetime(Kind.REGISTRATION_CODE).total_seconds():
        raise tokens.TokenExpired()
    if registration.decoy_attempts >= settings.CODE_MAX_ATTEMPTS:
        raise tokens.TooManyAttempts()
    registration.decoy_attempts += 1
    if registration.decoy_attempts >= settings.CODE_MAX_ATTEMPTS:
        raise tokens.TooManyAttempts()
    raise tokens.TokenInvalid()


# --- Step 3: the children ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChildToConfirm:
    link: Guardianship  # the legal link of one of the matched persons to this pupil
    pupil: Person
    etablissement: str
    division: str  # "" when the pupil has no class this year

    @property
    def checkable(self) -> bool:
        """Without a birth date on file nothing can be checked: the child is left out."""
        return self.pupil.birth_date is not None


def children_to_confirm(users: Sequence[User]) -> list[ChildToConfirm]:
    """The pupils whose legal representative the matched person(s) are, once each."""
    guardians = [pid for user in users for pid in person_ids(user)]
    links = (
        Guardianship.objects.filter(guardian_id__in=guardians, level=Guardianship.Level.LEGAL)
        .select_related("pupil", "etablissement")
        .order_by("pupil__birth_date", "pupil__first_name", "pupil_id", "pk")
    )
    children: dict[int, ChildToConfirm] = {}
    for link in links:
        if link.pupil_id in children:
            continue
        membership = (
            Membership.objects.current()
            .filter(person_id=link.pupil_id, etablissement_id=link.etablissement_id, profile=Profile.ELEVE)
            .select_related("division")
            .first()
        )
        division = membership.division if membership is not None else None
        children[link.pupil_id] = ChildToConfirm(
            link=link,
            pupil=link.pupil,
            etablissement=link.etablissement.name,
            division=str(division) if division is not None else "",
        )
    return list(children.values())


@dataclass(frozen=True)
class DatesCheck:
    ok: bool
    stopped: bool = False  # too many wrong dates: the generic message
    remaining: int = 0


def check_birth_dates(
    request: HttpRequest, registration: Registration, kept: User, typed: dict[int, datetime.date]
) -> DatesCheck:
    """Do the typed dates (pupil person id -> date) match every child confirmed?

    One wrong submission counts one failure against the account (activation's counter) and
    against the address and number. The answer never says which date was wrong.
    """
    subject = f"user:{kept.pk}"
    if throttle.retry_after(birth_date_limit(), subject) or blocked(request, registration.number):
        return DatesCheck(ok=False, stopped=True)
    births = dict(Person.objects.filter(pk__in=list(typed)).values_list("pk", "birth_date"))
    if typed and all(births.get(pk) is not None and births[pk] == day for pk, day in typed.items()):
        throttle.reset(birth_date_limit(), subject)
        return DatesCheck(ok=True)
    failures = throttle.record_failure(birth_date_limit(), subject)
    stopped = count_failure(request, registration.number) or bool(throttle.retry_after(birth_date_limit(), subject))
    return DatesCheck(ok=False, stopped=stopped, remaining=max(settings.BIRTHDATE_MAX_FAILURES - failures, 0))


def report_links(links: Sequence[Guardianship], *, reporter: User, registration: Registration) -> list[LinkReport]:
    """« Je ne suis pas le représentant légal de cet élève »: one report per link."""
    source = LinkReport.Source.FRANCECONNECT if registration.by_franceconnect else LinkReport.Source.REGISTRATION
    return [file_report(link, reporter=reporter, source=source) for link in links]


# --- Step 4: the charter ----------------------------------------------------------------------


def charter_to_accept(users: Sequence[User]) -> Charter | None:
    """The current charter unless the account to keep has accepted it already."""
    charter = Charter.current()
    if charter is None or not users:
        return None
    if CharterAcceptance.objects.filter(user=users[0], charter=charter).exists():
        return None
    return charter


# --- Step 5: the account ----------------------------------------------------------------------


def _merge(keep: User, absorbed: User) -> None:
    """cartable.merging's merge, looked up when needed (that app is built alongside this one)."""
    try:
        merging = importlib.import_module("cartable.merging.services")
        merge_accounts = merging.merge_accounts
    except (ImportError, AttributeError):  # pragma: no cover - until cartable.merging exists
        logger.warning("cartable.merging is missing: %s not merged into %s", absorbed.username, keep.username)
        return
    refused = getattr(merging, "MergeRefused", RegistrationRefused)
    try:
        merge_accounts(keep, absorbed, actor=keep, via="self_registration")
    except refused as error:
        raise RegistrationRefused(str(error)) from error


def complete(
    registration: Registration,
    *,
    password_hash: str | None,
    now: datetime.datetime | None = None,
) -> User:
    """Activate the account the registration proved, in one transaction: all of it, or nothing.

    - the account to keep gets the new password (SMS) or, never activated, loses its
      provisional one (FranceConnect: the person signs in through the provider); `activated_at`
      is set if it was not; a deactivation for expired credentials is lifted; pending
      activation links and reset codes die;
    - the charter accepted on the way is recorded;
    - the other accounts of the same human are merged into it (cartable.merging);
    - FranceConnect: the provider's `sub` is linked to it (ExternalIdentity);
    - audited, and a notice goes to its verified address, if any.
    Raises RegistrationRefused when the accounts changed meanwhile (merged, deactivated).
    """
    now = now or timezone.now()
    claims = registration.external
    with transaction.atomic():
        users = sort_kept_first(
            u for u in User.objects.select_for_update().filter(pk__in=registration.user_ids) if may_register(u)
        )
        if not users or users[0].pk != registration.user_ids[0]:
            raise RegistrationRefused(
                _("Votre compte a été modifié par votre établissement pendant votre inscription. Recommencez.")
            )
        keep, others = users[0], users[1:]
        was_activated = keep.activated_at is not None
        if password_hash is not None:
            keep.password = password_hash
        elif not was_activated:
            keep.password = UNUSABLE_PASSWORD  # the letter's password must not work any more
        keep.activated_at = keep.activated_at or now
        keep.is_active = True
        keep.deactivated_at = None
        keep.deactivation_reason = ""
        keep.save(update_fields=["password", "activated_at", "is_active", "deactivated_at", "deactivation_reason"])
        Confirmation.objects.filter(
            user=keep,
            kind__in=[Kind.ACTIVATION_EMAIL, Kind.PASSWORD_RESET, Kind.PASSWORD_RESET_SMS, Kind.REGISTRATION_CODE],
            used_at__isnull=True,
        ).update(used_at=now)
        charter = Charter.objects.filter(version=registration.charter_version).first() if (
            registration.charter_accepted and registration.charter_version is not None
        ) else None
        if charter is not None:
            CharterAcceptance.objects.get_or_create(user=keep, charter=charter, defaults={"accepted_at": now})
        for other in others:
            _merge(keep, other)
        if claims is not None:
            _link_identity(keep, claims, now)
        throttle.reset(login_account_limit(), keep.username)
        audit(
            "account.registered",
            actor=keep,
            target=keep,
            uai=uai_of(keep),
            via=registration.mode,
            was_activated=was_activated,
            children=len(registration.confirmed),
            merged=[other.username for other in others],
            charter=charter.version if charter is not None else None,
        )
        keep.refresh_from_db()
        if keep.email and keep.email_verified:
            queue_email(
                keep.email,
                NOTICE_EMAIL,
                {
                    "name": keep.get_full_name(),
                    "identifier": keep.username,
                    "at": now,
                    "franceconnect": claims is not None,
                    "login_link": absolute(reverse("portal:login"), identifiant=keep.username),
                },
            )
    return keep


def _link_identity(keep: User, claims: ExternalClaims, now: datetime.datetime) -> None:
    existing = ExternalIdentity.objects.filter(user=keep, provider=claims.provider).first()
    if existing is not None and existing.subject != claims.subject:
        raise RegistrationRefused(
            _(
                "Ce compte est déjà lié à une autre identité FranceConnect. Connectez-vous avec celle-ci, "
                "ou contactez votre établissement."
            )
        )
    if existing is None:
        try:
            with transaction.atomic():
                ExternalIdentity.objects.create(
                    user=keep, provider=claims.provider, subject=claims.subject, linked_at=now, last_used_at=now
                )
        except IntegrityError as error:  # this `sub` already belongs to another account
            raise RegistrationRefused(
                _("Cette identité FranceConnect est déjà liée à un autre compte : contactez votre établissement.")
            ) from error
