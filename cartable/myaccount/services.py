""""Mon compte": each change a named function (views only orchestrate).

Every change asks for the current password first (`verify_current_password`), counted with
the login's own limits: a wrong current password is a failed login, so an open session left
on a shared computer does not give unlimited guesses. Then:

- password: `recovery.services.set_password` (pending reset links die, notice e-mailed);
- e-mail address: `request_email_change` sends a link (EMAIL_CHANGE, 24 hours by default) to
  the new address and a notice to the old one; nothing changes until `confirm_email_change`,
  when the same account follows the link;
- mobile: `request_mobile_change` sends a code (PHONE_CODE) to the new number, at most
  SMS_MAX_PER_NUMBER per number per RECOVERY_LOCK_SECONDS; `confirm_mobile_change` applies it
  when the code is typed;
- secret questions: `set_secret_answers` replaces both.
Every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cartable.accounts import tokens
from cartable.accounts.models import Confirmation, SecretAnswer, User
from cartable.accounts.persons import children, is_responsable
from cartable.accounts.services import audit
from cartable.delivery.services import queue_email, queue_sms
from cartable.lib import throttle
from cartable.lib.text import normalise_answer
from cartable.portal.services import account_limit, address_limit, blocked_for
from cartable.recovery import limits
from cartable.recovery.services import absolute, lifetime_label

Kind = Confirmation.Kind

VERIFY_EMAIL = "myaccount/email/email_verify"
NOTICE_EMAIL = "myaccount/email/email_notice"


class OtherAccount(tokens.TokenError):
    code = "other_account"

    def __init__(self) -> None:
        super().__init__(
            _("Ce lien concerne un autre compte que celui avec lequel vous êtes connecté. Déconnectez-vous, puis rouvrez-le.")
        )


# --- The current password ----------------------------------------------------------------------


def verify_current_password(request: HttpRequest, user: User, password: str) -> tuple[bool, int]:
    """(right, seconds to wait): checks the password as the login does, with its counters.

    While the account or the address is locked the password is not even checked.
    """
    wait = blocked_for(request, user.username)
    if wait:
        return False, wait
    if user.check_password(password):
        throttle.reset(account_limit(), user.username)
        return True, 0
    throttle.record_failure(account_limit(), user.username)
    throttle.record_failure(address_limit(), throttle.client_address(request))
    return False, blocked_for(request, user.username)


# --- E-mail address ----------------------------------------------------------------------------


def masked(address: str) -> str:
    """'claire.exemple@exemple.fr' -> 'c…@exemple.fr': enough for its owner to recognise it."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


@transaction.atomic
def request_email_change(user: User, new_address: str) -> None:
    """Send the verification link to the new address and a notice to the old (verified) one."""
    token = tokens.issue_link(user, Kind.EMAIL_CHANGE, {"email": new_address})
    context = {"identifier": user.username, "name": user.get_full_name()}
    queue_email(
        new_address,
        VERIFY_EMAIL,
        {
            **context,
            "link": absolute(reverse("myaccount:email_link", args=[token])),
            "lifetime": lifetime_label(Kind.EMAIL_CHANGE),
        },
    )
    if user.email and user.email_verified and user.email.lower() != new_address.lower():
        # Told at once, before anything changes: if someone else asked, the owner can react.
        queue_email(
            user.email,
            NOTICE_EMAIL,
            {**context, "new_address": masked(new_address), "account_link": absolute(reverse("myaccount:security"))},
        )
    audit("email.change_requested", actor=user, target=user)


def pending_email_change(user: User) -> Confirmation | None:
    """The newest unused, unexpired e-mail change of `user` (its payload has the new address)."""
    return (
        Confirmation.objects.filter(
            user=user, kind=Kind.EMAIL_CHANGE, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def email_change_for(user: User, token: str) -> str:
    """The new address behind a link, checked for `user` but not used; raises TokenError."""
    confirmation = tokens.peek_link(Kind.EMAIL_CHANGE, token)
    if confirmation.user_id != user.pk:
        raise OtherAccount()
    return confirmation.payload["email"]


@transaction.atomic
def confirm_email_change(user: User, token: str) -> str:
    """Apply the change behind the link (once, and only for its own account); returns the address."""
    email_change_for(user, token)  # refuses another account's link before using it
    confirmation = tokens.redeem_link(Kind.EMAIL_CHANGE, token)
    user.email = confirmation.payload["email"]
    user.email_verified = True
    user.save(update_fields=["email", "email_verified"])
    audit("email.changed", actor=user, target=user)
    return user.email


# --- Mobile ------------------------------------------------------------------------------------


def request_mobile_change(user: User, number: str) -> int:
    """Send a code to the new number; returns 0, or the seconds to wait when it got too many."""
    wait = throttle.retry_after(limits.sms_per_number(), number)
    if wait:
        return wait
    throttle.record_failure(limits.sms_per_number(), number)
    with transaction.atomic():
        code = tokens.issue_code(user, Kind.PHONE_CODE, {"mobile": number})
        queue_sms(
            number,
            _("Cartable : votre code pour vérifier ce numéro est %(code)s. Il est valable %(lifetime)s.")
            % {"code": code, "lifetime": lifetime_label(Kind.PHONE_CODE)},
        )
        audit("mobile.change_requested", actor=user, target=user)
    return 0


def pending_mobile_change(user: User) -> Confirmation | None:
    return (
        Confirmation.objects.filter(user=user, kind=Kind.PHONE_CODE, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


def confirm_mobile_change(user: User, code: str) -> str:
    """Apply the new number once its code is typed; raises TokenError.

    Not wrapped in a transaction: a wrong code's try is counted by `redeem_code` just before it
    raises, and a rollback would forget it.
    """
    confirmation = tokens.redeem_code(user, Kind.PHONE_CODE, code)
    user.mobile = confirmation.payload["mobile"]
    user.save(update_fields=["mobile"])
    audit("mobile.changed", actor=user, target=user)
    return user.mobile


# --- Secret questions --------------------------------------------------------------------------


@transaction.atomic
def set_secret_answers(user: User, pairs: Sequence[tuple[int, str]]) -> None:
    """Replace the account's secret questions; answers are normalised then hashed like passwords."""
    user.secret_answers.all().delete()
    SecretAnswer.objects.bulk_create(
        [SecretAnswer(user=user, question=question, answer_hash=make_password(normalise_answer(answer)))
         for question, answer in pairs]
    )
    audit("secret_questions.changed", actor=user, target=user)


def display_phone(e164: str) -> str:
    """'+33612345678' -> '06 12 34 56 78' (French numbers); other numbers as they are."""
    if e164.startswith("+33") and len(e164) == 12:
        national = "0" + e164[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return e164


# --- Children ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    name: str
    link: str  # "Représentant légal", "Personne en charge de l'élève"
    etablissement: str
    division: str  # empty when the pupil has no class this year


def has_children_tab(user: User) -> bool:
    """The "Enfants" tab is for responsables: anyone with a child link, or a responsable profile."""
    return is_responsable(user)  # on every person of the account (regroupement: accounts.persons)


def children_of(user: User) -> list[Child]:
    """The pupils the account is responsible for (accounts.persons.children), for the Enfants tab."""
    return [
        Child(
            name=child.pupil.full_name,
            link=child.link.get_level_display(),
            etablissement=child.etablissement.name,
            division=str(child.division) if child.division is not None else "",
        )
        for child in children(user)
    ]
