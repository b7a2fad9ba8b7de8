"""Fixtures for the activation tests: the charter, and accounts holding only their letter."""

from __future__ import annotations

import datetime

import pytest

from cartable.accounts.models import Charter, User  # noqa: F401 (Charter: type of the root fixture)
from cartable.accounts.services import issue_provisional_credentials
from cartable.conftest import make_user
from cartable.directory.models import Guardianship, Person, Profile


@pytest.fixture
def newcomer(etab, division, pupil, charter) -> User:
    """A parent of `pupil` (born 14/03/2015) whose account was never activated nor printed."""
    user = make_user(
        "marc.exemple", Profile.RESPONSABLE, etab, first_name="Marc", last_name="EXEMPLE", password=None, activated=False
    )
    Guardianship.objects.create(pupil=pupil.person, guardian=user.person, etablissement=etab, level=1, relationship="20")
    return user


@pytest.fixture
def letter(newcomer) -> tuple[User, str]:
    """The newcomer's letter: (account, provisional password), issued now."""
    [(user, password)] = issue_provisional_credentials([newcomer], actor=None)
    return user, password


@pytest.fixture
def second_child(etab, division, newcomer) -> Person:
    """A second child of the newcomer, born 02/09/2017."""
    child = make_user(
        "hugo.exemple", Profile.ELEVE, etab, first_name="Hugo", last_name="EXEMPLE", division=division,
        birth_date=datetime.date(2017, 9, 2),
    ).person
    assert child is not None
    Guardianship.objects.create(pupil=child, guardian=newcomer.person, etablissement=etab, level=1, relationship="20")
    return child


@pytest.fixture
def pupil_letter(etab, division, charter) -> tuple[User, str]:
    """A pupil's letter (no children: no birth-date step)."""
    user = make_user(
        "nina.neuve", Profile.ELEVE, etab, first_name="Nina", last_name="NEUVE", division=division,
        password=None, activated=False, birth_date=datetime.date(2014, 5, 6),
    )
    [(user, password)] = issue_provisional_credentials([user], actor=None)
    return user, password
