"""The current charter, cached (accounts/charters.py): fresh after every publication."""

from __future__ import annotations

import datetime

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cartable.accounts import charters
from cartable.accounts.models import Charter


def test_the_current_charter_is_read_once_then_from_the_cache(db, charter):
    assert charters.current_ref() == (charter.id, charter.version)
    with CaptureQueriesContext(connection) as queries:
        assert charters.current_ref() == (charter.id, charter.version)
    assert not [q for q in queries.captured_queries if "accounts_charter" in q["sql"]]


def test_publishing_a_version_is_seen_at_once(db, charter):
    assert charters.current_ref().version == charter.version
    new = Charter.objects.create(version=charter.version + 1, text="Nouvelle charte")
    assert charters.current_ref() == (new.id, new.version)
    new.delete()
    assert charters.current_ref().version == charter.version


def test_a_version_published_later_becomes_current_at_its_date(db, charter):
    later = timezone.now() + datetime.timedelta(minutes=2)
    future = Charter.objects.create(version=charter.version + 1, text="Plus tard", published_at=later)
    assert charters.current_ref().version == charter.version
    with time_machine.travel(later + datetime.timedelta(seconds=5)):
        # The cached answer did not outlive the scheduled publication.
        assert charters.current_ref() == (future.id, future.version)


def test_no_charter(db):
    Charter.objects.all().delete()
    assert charters.current_ref() is None
