"""Activation dashboard numbers, each table one aggregate query (no loop over people).

An account is in exactly one of these states (`now` is when the page is drawn):
- activated:  `activated_at` set;
- pending:    letter issued, not activated, before the deadline (issued ≥ now − ACTIVATION_DEADLINE_DAYS);
- expired:    letter issued, not activated, past the deadline (deactivated, or about to be by
              `expire_accounts`);
- never:      no letter issued and not activated.
"Letters issued" counts every account whose provisional credentials were printed, activated or not.
People are counted through their current memberships; a person with no account (never created, or
deleted after a year without activation) counts in "people" only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Count, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartable.directory.models import Division, Etablissement, Guardianship, Membership, Profile

CATEGORIES = ("eleves", "parents", "personnels")
STATES = ("issued", "activated", "pending", "expired", "never")


@dataclass
class Row:
    label: str
    people: int = 0
    accounts: int = 0
    issued: int = 0
    activated: int = 0
    pending: int = 0
    expired: int = 0
    never: int = 0
    key: Any = None  # a division id, an établissement id or a category

    @property
    def without_account(self) -> int:
        return self.people - self.accounts

    @property
    def activated_percent(self) -> int | None:
        return round(100 * self.activated / self.accounts) if self.accounts else None

    def add(self, other: Row) -> None:
        for name in ("people", "accounts", *STATES):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _aggregates(person: str, now: datetime.datetime) -> dict[str, Count]:
    """Counts of distinct people by account state; `person` is the path to the person (e.g. "person")."""
    account = f"{person}__account__"
    cutoff = now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS)
    not_activated = Q(**{f"{account}activated_at__isnull": True})
    issued = Q(**{f"{account}credentials_issued_at__isnull": False})

    def count(condition: Q | None = None) -> Count:
        return Count(f"{person}_id", distinct=True, filter=condition)

    return {
        "people": count(),
        "accounts": count(Q(**{f"{account}isnull": False})),
        "issued": count(issued),
        "activated": count(Q(**{f"{account}activated_at__isnull": False})),
        "pending": count(not_activated & issued & Q(**{f"{account}credentials_issued_at__gte": cutoff})),
        "expired": count(not_activated & Q(**{f"{account}credentials_issued_at__lt": cutoff})),
        "never": count(not_activated & Q(**{f"{account}isnull": False}, **{f"{account}credentials_issued_at__isnull": True})),
    }


def _category() -> Case:
    return Case(
        When(profile=Profile.ELEVE, then=Value("eleves")),
        When(profile=Profile.RESPONSABLE, then=Value("parents")),
        default=Value("personnels"),
        output_field=CharField(),
    )


CATEGORY_LABELS = {"eleves": _("Élèves"), "parents": _("Parents et responsables"), "personnels": _("Personnels")}


def _row(label: str, values: dict[str, Any], key: Any = None) -> Row:
    return Row(label=label, key=key, **{name: values.get(name) or 0 for name in ("people", "accounts", *STATES)})


def by_etablissement(etablissements: list[Etablissement], now: datetime.datetime | None = None) -> list[Row]:
    """One row per établissement (every profile), for the overview: one query."""
    now = now or timezone.now()
    values = (
        Membership.objects.current()
        .filter(etablissement__in=etablissements)
        .values("etablissement_id")
        .annotate(**_aggregates("person", now))
    )
    found = {v["etablissement_id"]: v for v in values}
    return [_row(str(etab), found.get(etab.pk, {}), key=etab.pk) for etab in etablissements]


def by_profile(etablissement: Etablissement, now: datetime.datetime | None = None) -> list[Row]:
    """Élèves, parents, personnels of one établissement, and their total: one query.

    The total counts people once even when they hold two profiles (a teacher who is a parent).
    """
    now = now or timezone.now()
    current = Membership.objects.current().filter(etablissement=etablissement)
    values = current.annotate(category=_category()).values("category").annotate(**_aggregates("person", now))
    found = {v["category"]: v for v in values}
    rows = [_row(str(CATEGORY_LABELS[c]), found.get(c, {}), key=c) for c in CATEGORIES]
    total = current.aggregate(**_aggregates("person", now))
    rows.append(_row(str(_("Total")), total, key="total"))
    return rows


def by_division(etablissement: Etablissement, now: datetime.datetime | None = None) -> list[tuple[Row, Row]]:
    """(pupils, their legal representatives) per class of the current year: two queries."""
    now = now or timezone.now()
    divisions = list(Division.objects.filter(etablissement=etablissement, year=etablissement.current_year).order_by("code"))
    pupils = (
        Membership.objects.current()
        .filter(etablissement=etablissement, profile=Profile.ELEVE, division__in=divisions)
        .values("division_id")
        .annotate(**_aggregates("person", now))
    )
    # Each legal representative under the class of their child here (once per class).
    class_of_pupil = (
        Membership.objects.current()
        .filter(person_id=OuterRef("pupil_id"), etablissement=etablissement, profile=Profile.ELEVE)
        .values("division_id")[:1]
    )
    parents = (
        Guardianship.objects.filter(etablissement=etablissement, level=Guardianship.Level.LEGAL)
        .annotate(klass=Subquery(class_of_pupil))
        .filter(klass__in=[d.pk for d in divisions])
        .values("klass")
        .annotate(**_aggregates("guardian", now))
    )
    pupil_rows = {v["division_id"]: v for v in pupils}
    parent_rows = {v["klass"]: v for v in parents}
    return [
        (
            _row(str(d), pupil_rows.get(d.pk, {}), key=d.pk),
            _row(str(d), parent_rows.get(d.pk, {}), key=d.pk),
        )
        for d in divisions
    ]
