"""managed_etablissements: the scoping rule every console screen relies on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from cartable.accounts.models import User
from cartable.directory.models import Membership
from cartable.directory.scoping import managed_etablissements

pytestmark = pytest.mark.django_db


def test_secretary_manages_own_etablissement_only(secretary, etab, other_etab):
    assert list(managed_etablissements(secretary)) == [etab]


def test_superuser_manages_all(etab, other_etab):
    admin = User.objects.create_superuser("admin")
    assert set(managed_etablissements(admin)) == {etab, other_etab}


def test_others_manage_nothing(teacher, parent, etab):
    assert not managed_etablissements(AnonymousUser()).exists()
    assert not managed_etablissements(teacher).exists()
    assert not managed_etablissements(parent).exists()
    # A teacher with console access still needs a console profile.
    teacher.is_staff = True
    assert not managed_etablissements(teacher).exists()


def test_departed_or_disabled_secretary_manages_nothing(secretary, etab):
    secretary.is_active = False
    assert not managed_etablissements(secretary).exists()
    secretary.is_active = True
    Membership.objects.filter(person=secretary.person).update(departed_at=timezone.now())
    assert not managed_etablissements(secretary).exists()
