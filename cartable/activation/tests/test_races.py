"""Two activations of one account at once: exactly one wins, never a half-activated account.

The forced interleavings (both past their checks before either writes) need a database where
two transactions really run side by side: PostgreSQL. SQLite runs write transactions one at a
time (IMMEDIATE), so there the same code paths are driven one after the other.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from cartable.accounts.models import AuditEvent, SecretAnswer, User
from cartable.activation import services

from .helpers import (
    PUPIL_BIRTH_DATE,
    answer_questions,
    choose_password,
    link_from_outbox,
    text,
    until_password,
)

PASSWORD_A = "Premier-Choix-2027"  # noqa: S105
PASSWORD_B = "Second-Choix-2027"  # noqa: S105


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two write transactions at once need PostgreSQL (SQLite serialises them)")


def two_browsers_at_the_password_step(user, provisional, pupil) -> tuple[Client, Client]:
    a, b = Client(), Client()
    until_password(a, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE})
    until_password(b, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE})
    answer_questions(b, 2, "Rue des Lilas", 9, "Tours")  # different answers in the second browser
    return a, b


def assert_won_by(user: User, password: str, questions: set[int]) -> None:
    user.refresh_from_db()
    assert user.is_activated and user.check_password(password)
    assert set(SecretAnswer.objects.filter(user=user).values_list("question", flat=True)) == questions
    assert AuditEvent.objects.filter(action="account.activated", target_username=user.username).count() == 1


def test_second_browser_gets_a_clear_message(letter, pupil):
    user, provisional = letter
    a, b = two_browsers_at_the_password_step(user, provisional, pupil)
    assert choose_password(a, PASSWORD_A).status_code == 302
    response = choose_password(b, PASSWORD_B)
    assert response.status_code == 409 and "vient d'être activé" in text(response)
    assert_won_by(user, PASSWORD_A, {1, 13})


def test_the_conditional_update_refuses_the_loser(letter):
    """Both checks passed (as in a race), the second UPDATE finds the account activated."""
    user, _provisional = letter
    services.activate_account(user.pk, issued_at=user.credentials_issued_at, password_hash=make_password(PASSWORD_A),
                              charter_version=1, answers=[(1, make_password("a")), (2, make_password("b"))])
    real_check = services._check_can_activate
    calls = []

    def stale_then_real(*args):
        calls.append(args)
        if len(calls) > 1:
            return real_check(*args)
        return None  # the loser's first look happened before the winner wrote

    with mock.patch.object(services, "_check_can_activate", side_effect=stale_then_real):
        with pytest.raises(services.AlreadyActivated):
            services.activate_account(user.pk, issued_at=user.credentials_issued_at,
                                      password_hash=make_password(PASSWORD_B), charter_version=1,
                                      answers=[(5, make_password("c")), (6, make_password("d"))])
    assert len(calls) == 2
    assert_won_by(user, PASSWORD_A, {1, 2})


def run_together(*jobs):
    """Run the jobs in threads at once; returns their results (each thread closes its connection)."""
    results: list = [None] * len(jobs)
    errors: list = []

    def run(index, job):
        try:
            results[index] = job()
        except BaseException as error:  # reported in the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_final_steps(letter, pupil, charter):
    needs_postgresql()
    user, provisional = letter
    a, b = two_browsers_at_the_password_step(user, provisional, pupil)
    barrier = threading.Barrier(2, timeout=10)
    real_check = services._check_can_activate

    def check_then_wait(*args):
        real_check(*args)
        barrier.wait()  # both have passed their check: now both write

    with mock.patch.object(services, "_check_can_activate", side_effect=check_then_wait):
        responses = run_together(lambda: choose_password(a, PASSWORD_A), lambda: choose_password(b, PASSWORD_B))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert "vient d'être activé" in text(loser)
    winner_password, winner_questions = (PASSWORD_A, {1, 13}) if responses[0].status_code == 302 else (PASSWORD_B, {2, 9})
    assert_won_by(user, winner_password, winner_questions)


@pytest.mark.django_db(transaction=True)
def test_one_link_confirmed_twice_at_once(letter, pupil, charter):
    needs_postgresql()
    user, provisional = letter
    first = Client()
    until_password(first, user, provisional, children={pupil.person.pk: PUPIL_BIRTH_DATE}, email="marc@example.org")
    choose_password(first, PASSWORD_A)
    path = link_from_outbox("marc@example.org")
    a, b = Client(), Client()
    a.get(path)
    b.get(path)
    barrier = threading.Barrier(2, timeout=10)
    real_peek = services.peek_activation_link

    def peek_then_wait(*args, **kwargs):
        confirmation = real_peek(*args, **kwargs)
        barrier.wait()
        return confirmation

    with mock.patch.object(services, "peek_activation_link", side_effect=peek_then_wait):
        responses = run_together(lambda: a.post(reverse("activation:confirm")), lambda: b.post(reverse("activation:confirm")))
    assert sorted(r.status_code for r in responses) == [302, 400]
    assert "déjà été utilisé" in text(next(r for r in responses if r.status_code == 400))
    user.refresh_from_db()
    assert user.is_activated and user.email == "marc@example.org" and check_password(PASSWORD_A, user.password)
    assert AuditEvent.objects.filter(action="account.activated", target_username=user.username).count() == 1
