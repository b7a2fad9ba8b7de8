"""Deadlines of provisional credentials: the rules behind `manage.py expire_accounts`.

For an account never activated, counted from the instant its provisional credentials (the
letter) were issued:

1. after ACTIVATION_DEADLINE_DAYS (3 months), it is **deactivated**: `is_active` False,
   `deactivated_at` now, `deactivation_reason` "activation_deadline". The staff can reactivate
   it from the console (a new letter);
2. after ACCOUNT_DELETION_DAYS (1 year), it is **deleted**: the account row goes, and with it
   its confirmations, secret answers and charter acceptances. The directory person stays (it
   belongs to the school's records); an audit line stays, with only the identifier, the
   établissement, the reason and the dates.

Accounts deleted first, then deactivated. Each batch is one transaction whose rows are locked
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's transactions already run one at a
time) and changed by conditional updates, so two runs at once never handle an account twice,
and a second run changes nothing more (idempotent).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from cartable.accounts.models import AuditEvent, User
from cartable.directory.models import Membership

REASON = "activation_deadline"
BATCH_SIZE = 500


@dataclass(frozen=True)
class Expired:
    username: str
    issued_at: datetime.datetime
    uai: str


@dataclass
class ExpiryReport:
    deactivated: list[Expired] = field(default_factory=list)
    deleted: list[Expired] = field(default_factory=list)


def cutoffs(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """(deactivate issued before this, delete issued before this)."""
    return (
        now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS),
        now - datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS),
    )


def to_delete(now: datetime.datetime) -> QuerySet[User]:
    _deactivate_before, delete_before = cutoffs(now)
    # An account merged into another (cartable.merging) stays: its person's children now belong
    # to the kept account through it (accounts.persons), even if it was never activated.
    return User.objects.filter(activated_at__isnull=True, credentials_issued_at__lt=delete_before, merged_into__isnull=True)


def to_deactivate(now: datetime.datetime) -> QuerySet[User]:
    deactivate_before, delete_before = cutoffs(now)
    return User.objects.filter(
        activated_at__isnull=True,
        is_active=True,
        credentials_issued_at__lt=deactivate_before,
        credentials_issued_at__gte=delete_before,
    )


def expire_accounts(*, now: datetime.datetime | None = None, dry_run: bool = False) -> ExpiryReport:
    """Apply the rules of the module docstring; with `dry_run`, only say what would be done."""
    now = now or timezone.now()
    report = ExpiryReport()
    if dry_run:
        report.deleted = _describe(to_delete(now))
        report.deactivated = _describe(to_deactivate(now))
        return report
    while batch := _delete_batch(now):
        report.deleted += batch
    while batch := _deactivate_batch(now):
        report.deactivated += batch
    return report


def _locked(qs: QuerySet[User]) -> QuerySet[User]:
    """Rows another run is handling are skipped rather than waited for."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs


@dataclass(frozen=True)
class _Candidate:
    pk: int
    username: str
    person_id: int | None
    issued_at: datetime.datetime
    deactivated_at: datetime.datetime | None


def _candidates(qs: QuerySet[User], *, lock: bool) -> list[_Candidate]:
    if lock:
        qs = _locked(qs.order_by("pk"))[:BATCH_SIZE]
    else:
        qs = qs.order_by("username")
    rows = qs.values_list("pk", "username", "person_id", "credentials_issued_at", "deactivated_at")
    # credentials_issued_at is never NULL here: both filters compare it with a date.
    return [_Candidate(pk, username, person, issued, off) for pk, username, person, issued, off in rows if issued]


def _expired(candidates: list[_Candidate]) -> list[Expired]:
    uais = _uais(c.person_id for c in candidates)
    return [Expired(c.username, c.issued_at, uais.get(c.person_id or 0, "")) for c in candidates]


def _delete_batch(now: datetime.datetime) -> list[Expired]:
    _deactivate_before, delete_before = cutoffs(now)
    with transaction.atomic():
        candidates = _candidates(to_delete(now), lock=True)
        if not candidates:
            return []
        expired = _expired(candidates)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    at=now,
                    action="account.deleted",
                    target_username=item.username,
                    etablissement_uai=item.uai,
                    detail={
                        "reason": REASON,
                        "credentials_issued_at": item.issued_at.isoformat(),
                        "deactivated_at": c.deactivated_at.isoformat() if c.deactivated_at else None,
                    },
                )
                for c, item in zip(candidates, expired, strict=True)
            ]
        )
        # Conditional: an account activated meanwhile is not in the filter any more.
        User.objects.filter(
            pk__in=[c.pk for c in candidates], activated_at__isnull=True, credentials_issued_at__lt=delete_before
        ).delete()
    return expired


def _deactivate_batch(now: datetime.datetime) -> list[Expired]:
    with transaction.atomic():
        candidates = _candidates(to_deactivate(now), lock=True)
        if not candidates:
            return []
        expired = _expired(candidates)
        to_deactivate(now).filter(pk__in=[c.pk for c in candidates]).update(
            is_active=False, deactivated_at=now, deactivation_reason=REASON
        )
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    at=now,
                    action="account.deactivated",
                    target_username=item.username,
                    etablissement_uai=item.uai,
                    detail={"reason": REASON, "credentials_issued_at": item.issued_at.isoformat()},
                )
                for item in expired
            ]
        )
    return expired


def _describe(qs: QuerySet[User]) -> list[Expired]:
    return _expired(_candidates(qs, lock=False))


def _uais(person_ids: Iterable[int | None]) -> dict[int, str]:
    """Each person's établissement (a current membership first), in one query."""
    ids = {pk for pk in person_ids if pk is not None}
    uais: dict[int, str] = {}
    memberships = (
        Membership.objects.filter(person_id__in=ids)
        .order_by(F("departed_at").desc(nulls_first=True), "pk")
        .values_list("person_id", "etablissement__uai")
    )
    for person_id, uai in memberships:
        uais.setdefault(person_id, uai)
    return uais
