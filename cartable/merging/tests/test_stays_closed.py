"""A merged account stays closed: no letter, reactivation or expiry undoes the regroupement."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.accounts.services import issue_provisional_credentials
from cartable.activation.expiry import expire_accounts
from cartable.conftest import make_user
from cartable.directory.models import Guardianship, Profile
from cartable.merging.services import merge_accounts

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(parent, etab, sibling) -> User:
    """A never-activated second account, proven by its letter and merged into `parent`."""
    other = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE",
                      password=None, activated=False)
    Guardianship.objects.create(pupil=sibling.person, guardian=other.person, etablissement=etab, level=1)
    issue_provisional_credentials([other], actor=None)
    merge_accounts(parent, other, actor=None, via="self_service")
    other.refresh_from_db()
    return other


def test_expiry_never_deletes_a_merged_account(parent, merged, sibling, settings):
    User.objects.filter(pk=merged.pk).update(
        credentials_issued_at=timezone.now() - datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS + 30)
    )
    report = expire_accounts()
    assert report.deleted == [] and User.objects.filter(pk=merged.pk).exists()
    assert merged.person_id in person_ids(parent)  # the kept account still has that child


def test_a_new_letter_does_not_reopen_a_merged_account(merged):
    assert issue_provisional_credentials([merged], actor=None) == []
    merged.refresh_from_db()
    assert not merged.is_active and merged.merged_into_id is not None


def test_console_reactivation_leaves_a_merged_account_closed(client, secretary, merged):
    client.force_login(secretary)
    client.post(reverse("admin:accounts_user_changelist"), {"action": "reactivate", "_selected_action": [merged.pk]})
    merged.refresh_from_db()
    assert not merged.is_active
    page = client.get(reverse("admin:accounts_user_change", args=[merged.pk])).content.decode()
    assert 'name="is_active"' not in page  # read-only on a merged account
