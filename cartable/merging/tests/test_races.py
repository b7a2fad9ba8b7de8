"""Two merges of the same pair at once, in opposite directions: exactly one wins.

Without the row locks both would pass their checks on stale rows and each account would end
merged into the other (both closed, the children of neither reachable). The forced interleaving
needs two transactions running side by side: PostgreSQL (SQLite runs them one at a time).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from cartable.accounts.models import User
from cartable.merging import services


@pytest.mark.django_db(transaction=True)
def test_opposite_merges_at_once(parent, second_account):
    if connection.vendor != "postgresql":
        pytest.skip("two write transactions at once need PostgreSQL (SQLite serialises them)")
    inside, release = threading.Event(), threading.Event()
    real_children_names = services.children_names
    outcomes: dict[str, str] = {}

    def first_holds_its_locks(user):
        # Called after the checks, with both rows locked: the first merge waits here.
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(10)
        return real_children_names(user)

    def run(name: str, keep: User, absorbed: User) -> None:
        try:
            services.merge_accounts(keep, absorbed, actor=None, via="staff")
            outcomes[name] = "merged"
        except services.MergeRefused as refusal:
            outcomes[name] = refusal.code
        finally:
            connections.close_all()

    services.children_names = first_holds_its_locks  # type: ignore[assignment]
    try:
        first = threading.Thread(target=run, name="first", args=("first", parent, second_account))
        first.start()
        assert inside.wait(10)
        second = threading.Thread(
            target=run, name="second", args=("second", User.objects.get(pk=second_account.pk), User.objects.get(pk=parent.pk))
        )
        second.start()
        time.sleep(0.5)  # let the second merge reach the lock (without it, it would get past its checks)
        release.set()
        first.join(20)
        second.join(20)
    finally:
        services.children_names = real_children_names  # type: ignore[assignment]

    assert outcomes == {"first": "merged", "second": "already_merged"}
    kept, closed = User.objects.get(pk=parent.pk), User.objects.get(pk=second_account.pk)
    assert kept.is_active and kept.merged_into_id is None
    assert not closed.is_active and closed.merged_into_id == parent.pk
