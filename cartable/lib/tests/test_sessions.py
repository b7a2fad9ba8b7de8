"""The session stores that write a new session once (cartable.lib.sessions), and the login's queries."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cartable.accounts import charters
from cartable.lib import sessions
from cartable.portal.tests.helpers import login


def test_a_login_inserts_its_session_once_and_asks_nothing_else_of_the_session_table(client, parent):
    with CaptureQueriesContext(connection) as queries:
        response = login(client, parent.username)
    assert response.status_code == 302
    session_sql = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert len(session_sql) == 1 and session_sql[0].startswith("INSERT"), session_sql
    stored = Session.objects.get(session_key=client.session.session_key)
    assert stored.get_decoded()["_auth_user_id"] == str(parent.pk)


def test_the_login_post_needs_few_queries(client, parent, django_assert_max_num_queries):
    # Throttle counters and current charter (cache: queries only without Redis), the account
    # with its charter acceptance, last_login, the session (INSERT inside a savepoint in tests).
    client.get(reverse("portal:login"))
    charters.current_ref()  # filled once per publication, not per login
    with django_assert_max_num_queries(8):
        assert login(client, parent.username).status_code == 302


def test_logging_in_again_replaces_the_old_session(client, parent):
    client.get(reverse("portal:start"))
    session = client.session
    session["before"] = "kept"
    session.save()
    old_key = session.session_key
    assert Session.objects.filter(session_key=old_key).exists()
    login(client, parent.username)
    new_key = client.session.session_key
    assert new_key != old_key and len(new_key) == 40
    assert not Session.objects.filter(session_key=old_key).exists()
    assert client.session["before"] == "kept"  # cycle_key keeps the data


@pytest.mark.django_db
def test_a_key_collision_draws_a_new_key_instead_of_overwriting():
    taken = sessions.SessionStore()
    taken["owner"] = "someone else"
    taken.save()
    store = sessions.SessionStore()
    store["owner"] = "me"
    keys = iter([taken.session_key, "f" * 40])
    store._get_new_session_key = lambda: next(keys)  # type: ignore[method-assign]
    store.cycle_key()
    assert store.session_key == taken.session_key
    store.save()  # the INSERT of the taken key fails: a new key is drawn
    assert store.session_key == "f" * 40
    assert sessions.SessionStore(taken.session_key).load()["owner"] == "someone else"
    assert sessions.SessionStore("f" * 40).load()["owner"] == "me"


@pytest.mark.django_db
def test_an_update_of_a_vanished_session_is_not_turned_into_a_create():
    store = sessions.SessionStore()
    store["a"] = 1
    store.save()
    Session.objects.filter(session_key=store.session_key).delete()
    store["a"] = 2
    with pytest.raises(Exception) as caught:  # UpdateError: Django's SessionMiddleware answers 400
        store.save()
    assert not isinstance(caught.value, CreateError)
