"""State changes on accounts, each a named function (views and commands only orchestrate)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cartable.directory.models import STAFF_CONSOLE_PROFILES, Etablissement, Membership, Person

from .identifiers import IdentifierAllocator, lock_identifiers
from .models import AuditEvent, User

# No look-alike characters (0/O, 1/l/I) on a paper letter typed in by hand.
PROVISIONAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
UNUSABLE_PASSWORD = "!"  # noqa: S105 - not a secret: Django treats a hash starting with "!" as unusable.


def generate_provisional_password(length: int | None = None) -> str:
    """A random password from the OS's cryptographic source, with at least one letter and digit."""
    length = length or settings.PROVISIONAL_PASSWORD_LENGTH
    while True:
        password = "".join(secrets.choice(PROVISIONAL_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def audit(action: str, *, actor: User | None, target: User | str = "", uai: str = "", **detail: object) -> None:
    AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        target_username=target.username if isinstance(target, User) else target,
        etablissement_uai=uai,
        detail=detail,
    )


def create_accounts(persons: Sequence[Person], *, batch_size: int = 2000) -> list[User]:
    """Give each person without an account one, with a fresh identifier and no usable password.

    Runs in the caller's transaction (the importer's); identifier allocation is serialised.
    """
    if not persons:
        return []
    lock_identifiers()
    have = set(User.objects.filter(person__in=[p.pk for p in persons]).values_list("person_id", flat=True)) if len(
        persons
    ) < 5000 else set(User.objects.exclude(person=None).values_list("person_id", flat=True))
    todo = [p for p in persons if p.pk not in have]
    allocator = IdentifierAllocator(preload_all=len(todo) > 200)
    now = timezone.now()
    users = [
        User(
            username=allocator.allocate(p.first_name, p.usage_name or p.last_name),
            person=p,
            password=UNUSABLE_PASSWORD,
            date_joined=now,
        )
        for p in todo
    ]
    User.objects.bulk_create(users, batch_size=batch_size)
    return users


def sync_staff_access(person_ids: Iterable[int] | None = None) -> int:
    """Console access follows the directory: direction and secrétariat members get it.

    Superusers keep theirs; an account whose last console profile departed loses it.
    """
    qs = User.objects.filter(is_superuser=False).exclude(person=None)
    if person_ids is not None:
        qs = qs.filter(person_id__in=list(person_ids))
    console_people = Membership.objects.current().filter(profile__in=STAFF_CONSOLE_PROFILES).values("person_id")
    granted = qs.filter(is_staff=False, person_id__in=console_people).update(is_staff=True)
    revoked = qs.filter(is_staff=True).exclude(person_id__in=console_people).update(is_staff=False)
    return granted + revoked


@transaction.atomic
def issue_provisional_credentials(
    users: Iterable[User],
    *,
    actor: User | None,
    reset_activated: bool = False,
    etablissement: Etablissement | None = None,
) -> list[tuple[User, str]]:
    """Give each account a new provisional password; returns (user, clear password) for the letters.

    The clear password is never stored: it exists only in the return value, which goes onto the
    printed letter. An activated account is left alone unless `reset_activated` (a staff reset:
    the person activates again with the new letter). `etablissement`, when given, is the one
    the audit lines are filed under (the staff member's); otherwise the person's current one.
    """
    now = timezone.now()
    issued: list[tuple[User, str]] = []
    for user in users:
        if user.is_activated and not reset_activated:
            continue
        if user.merged_into_id is not None:
            continue  # merged into another account (cartable.merging): a letter would reopen it
        password = generate_provisional_password()
        user.set_password(password)
        user.credentials_issued_at = now
        was_activated = user.is_activated
        user.activated_at = None
        user.is_active = True
        user.save(update_fields=["password", "credentials_issued_at", "activated_at", "is_active"])
        audit(
            "account.reset" if was_activated else "credentials.issued",
            actor=actor,
            target=user,
            uai=etablissement.uai if etablissement is not None else _uai_of(user),
        )
        issued.append((user, password))
    return issued


def _uai_of(user: User) -> str:
    if user.person is None:
        return ""
    membership = (
        Membership.objects.current().filter(person=user.person).select_related("etablissement").first()
        or Membership.objects.filter(person=user.person).select_related("etablissement").first()
    )
    return membership.etablissement.uai if membership else ""
