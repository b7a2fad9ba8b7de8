"""Fixtures of the regroupement tests: one parent holding two accounts (siblings on two letters)."""

from __future__ import annotations

import datetime

import pytest

from cartable.accounts.models import User
from cartable.conftest import make_user
from cartable.directory.models import Division, Guardianship, Profile


@pytest.fixture
def division_5b(etab) -> Division:
    return Division.objects.create(etablissement=etab, year=2026, code="5B", label="5e B")


@pytest.fixture
def sibling(etab, division_5b) -> User:
    return make_user(
        "hugo.exemple", Profile.ELEVE, etab, first_name="Hugo", last_name="EXEMPLE", division=division_5b,
        birth_date=datetime.date(2013, 9, 2),
    )


@pytest.fixture
def second_account(etab, sibling) -> User:
    """The same Claire EXEMPLE, recorded a second time for Hugo: another letter, another account."""
    user = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE")
    Guardianship.objects.create(pupil=sibling.person, guardian=user.person, etablissement=etab, level=1, relationship="10")
    return user
