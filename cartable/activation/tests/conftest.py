"""Fixtures for the activation tests: the charter, and accounts holding only their letter."""

from __future__ import annotations

import datetime

import pytest

from cartable.accounts.models import Charter, User
from cartable.accounts.services import issue_provisional_credentials
from cartable.conftest import make_user
from cartable.directory.models import Guardianship, Person, Profile

# Published long ago, so that tests travelling in time still find it current.
CHARTER_PUBLISHED = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def charter(request) -> Charter | None:
    """Version 1 (the data migration's; transactional tests flush it, so it is made again).

    Autouse, so that it exists before any persona: an activated persona accepts the current
    charter when it is made (cartable.conftest.make_user), as a real activation would.
    """
    if not ({"db", "transactional_db", "live_server"} & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        return None
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    charter, _created = Charter.objects.update_or_create(
        version=1, defaults={"title": "Charte d'utilisation de l'ENT", "text": "# Règles\nRespectez les autres.\n\n- Ne prêtez pas votre mot de passe.", "published_at": CHARTER_PUBLISHED}
    )
    return charter


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
