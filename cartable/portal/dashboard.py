"""What the home page after login shows, read from the directory for one account.

Every query starts from the logged-in person: a parent sees the pupils they are the legal
representative of (Guardianship level 1) and nobody else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F, Q

from cartable.accounts.models import User
from cartable.directory.models import Division, Guardianship, Membership, Profile, Teaching


@dataclass(frozen=True)
class Child:
    name: str
    division: str  # empty when the pupil has no class yet
    etablissement: str


@dataclass(frozen=True)
class TaughtClass:
    etablissement: str
    structure: str  # a class or a group
    subjects: tuple[str, ...]


@dataclass
class Dashboard:
    memberships: list[Membership] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    pupil_classes: list[Membership] = field(default_factory=list)
    taught: list[TaughtClass] = field(default_factory=list)


def _division_of(pupil_id: int, etablissement_id: int) -> Division | None:
    membership = (
        Membership.objects.current()
        .filter(person_id=pupil_id, etablissement_id=etablissement_id, profile=Profile.ELEVE)
        .select_related("division")
        .first()
    )
    return membership.division if membership else None


def build_dashboard(user: User) -> Dashboard:
    """The établissements, profiles, children, class and taught classes of `user`'s person."""
    board = Dashboard()
    if not user.person_id:
        return board
    person_id = user.person_id
    board.memberships = list(
        Membership.objects.current()
        .filter(person_id=person_id)
        .select_related("etablissement", "division")
        .order_by("etablissement__name", "profile")
    )
    profiles = {m.profile for m in board.memberships}

    if Profile.RESPONSABLE in profiles:
        links = (
            Guardianship.objects.filter(guardian_id=person_id, level=Guardianship.Level.LEGAL)
            .select_related("pupil", "etablissement")
            .order_by("pupil__first_name", "pupil__last_name")
        )
        for link in links:
            division = _division_of(link.pupil_id, link.etablissement_id)
            board.children.append(
                Child(
                    name=link.pupil.full_name,
                    division=str(division) if division else "",
                    etablissement=link.etablissement.name,
                )
            )

    board.pupil_classes = [m for m in board.memberships if m.profile == Profile.ELEVE]

    if Profile.ENSEIGNANT in profiles:
        # Only this school year's classes and groups (last year's stay in the directory).
        teachings = (
            Teaching.objects.filter(teacher_id=person_id)
            .filter(
                Q(division__year=F("etablissement__current_year")) | Q(group__year=F("etablissement__current_year"))
            )
            .select_related("etablissement", "division", "group", "subject")
            .order_by("etablissement__name", "division__code", "group__code")
        )
        grouped: dict[tuple[str, str], list[str]] = {}
        for teaching in teachings:
            key = (teaching.etablissement.name, str(teaching.division or teaching.group))
            subjects = grouped.setdefault(key, [])
            if teaching.subject and teaching.subject.label not in subjects:
                subjects.append(teaching.subject.label)
        board.taught = [TaughtClass(etab, structure, tuple(subjects)) for (etab, structure), subjects in grouped.items()]
    return board
