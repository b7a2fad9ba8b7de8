"""Probable duplicates: parents' accounts that are likely the same human, for the staff console.

Two accounts are probable duplicates when their persons have the same names (compared without
case, accents, hyphens, apostrophes or extra spaces: lib/text) and share a phone number
(compared in E.164: lib/phones) or an e-mail address (without case). Groups are closed under
that relation: A~B and B~C put A, B and C in one group.

Only accounts that a merge would accept are considered (active, not merged, no console access,
a parent's), and only among the accounts the caller passes in: the console passes the accounts
of the staff member's établissements (directory.admin.scope_queryset), so a secretary never sees
another établissement's parents, even as the other half of a pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from cartable.accounts.models import User
from cartable.directory.models import Guardianship, Membership, Profile
from cartable.lib.phones import to_e164
from cartable.lib.text import ascii_fold

_SEPARATORS = re.compile(r"[\s\-'.]+")


def name_key(first_name: str, last_name: str) -> str:
    """'Éloïse-Marie', "d'Arc" and 'ELOISE MARIE', 'D ARC' give the same key."""

    def norm(value: str) -> str:
        return " ".join(p for p in _SEPARATORS.split(ascii_fold(value or "").casefold()) if p)

    return f"{norm(first_name)}|{norm(last_name)}"


@dataclass
class Candidate:
    account: User
    contacts: set[str] = field(default_factory=set)  # "tel:+33…", "mail:…"


@dataclass
class DuplicateGroup:
    accounts: list[User]  # the suggested kept account first
    shared: list[str]  # the phone numbers and addresses that tie them, for the staff member

    @property
    def suggested(self) -> User:
        return self.accounts[0]


def suggested_order(accounts: list[User]) -> list[User]:
    """The account to keep first: an activated one (the parent uses it), then the oldest."""
    return sorted(accounts, key=lambda u: (u.activated_at is None, u.activated_at or u.date_joined, u.pk))


def _candidates(accounts: QuerySet[User]) -> list[Candidate]:
    parents = Membership.objects.current().filter(profile=Profile.RESPONSABLE).values("person_id")
    guardians = Guardianship.objects.values("guardian_id")
    qs = accounts.filter(
        is_active=True, merged_into__isnull=True, is_staff=False, is_superuser=False, person__isnull=False
    ).filter(Q(person_id__in=parents) | Q(person_id__in=guardians))
    found = []
    for account in qs.distinct().select_related("person"):
        person = account.person
        assert person is not None
        contacts = {f"tel:{n}" for n in map(to_e164, (person.mobile, person.phone_home, person.phone_work, account.mobile)) if n}
        contacts |= {f"mail:{a.strip().lower()}" for a in (person.email, account.email) if a and a.strip()}
        found.append(Candidate(account, contacts))
    return found


def _clusters(contacts: list[set[str]]) -> list[list[int]]:
    """Indexes grouped by "shares a contact", transitively (union-find); groups of two or more."""
    root = list(range(len(contacts)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    owner: dict[str, int] = {}
    for i, mine in enumerate(contacts):
        for contact in mine:
            if contact in owner:
                root[find(i)] = find(owner[contact])
            else:
                owner[contact] = i
    clusters: dict[int, list[int]] = {}
    for i in range(len(contacts)):
        clusters.setdefault(find(i), []).append(i)
    return [members for members in clusters.values() if len(members) > 1]


def probable_duplicates(accounts: QuerySet[User]) -> list[DuplicateGroup]:
    """Groups of probable duplicates among `accounts` (rules in the module docstring)."""
    by_name: dict[str, list[Candidate]] = {}
    for candidate in _candidates(accounts):
        person = candidate.account.person
        assert person is not None
        by_name.setdefault(name_key(person.first_name, person.display_last_name), []).append(candidate)
    groups = []
    for same_name in by_name.values():
        if len(same_name) < 2:
            continue
        for members in _clusters([c.contacts for c in same_name]):
            counts: dict[str, int] = {}
            for i in members:
                for contact in same_name[i].contacts:
                    counts[contact] = counts.get(contact, 0) + 1
            shared = sorted(c.split(":", 1)[1] for c, n in counts.items() if n > 1)
            groups.append(DuplicateGroup(suggested_order([same_name[i].account for i in members]), shared))
    groups.sort(key=lambda g: (g.suggested.person.display_last_name if g.suggested.person else "", g.suggested.username))
    return groups
