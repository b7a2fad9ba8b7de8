"""expire_accounts: deactivate at the activation deadline, delete at a year, audit kept."""

from __future__ import annotations

import datetime
import io
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from cartable.accounts import tokens
from cartable.accounts.models import AuditEvent, CharterAcceptance, Confirmation, SecretAnswer, User
from cartable.accounts.services import issue_provisional_credentials
from cartable.activation.expiry import expire_accounts
from cartable.conftest import make_user
from cartable.directory.models import Person, Profile

DAY = datetime.timedelta(days=1)


def issued(user: User, when: datetime.datetime) -> User:
    User.objects.filter(pk=user.pk).update(credentials_issued_at=when)
    user.refresh_from_db()
    return user


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("expire_accounts", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def newcomers(etab, division, charter):
    """Three pupils who never activated, letters issued now (issue_provisional_credentials)."""
    users = [
        make_user(f"eleve.{i}", Profile.ELEVE, etab, first_name="Élève", last_name=str(i), division=division,
                  password=None, activated=False)
        for i in range(3)
    ]
    issue_provisional_credentials(users, actor=None)
    return users


def test_deactivation_at_the_deadline_both_sides(newcomers, now, settings):
    deadline = datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS)
    just_in = issued(newcomers[0], now - deadline)  # exactly at the deadline: still valid
    just_out = issued(newcomers[1], now - deadline - datetime.timedelta(seconds=1))
    report = expire_accounts(now=now)
    assert [e.username for e in report.deactivated] == [just_out.username] and report.deleted == []
    just_in.refresh_from_db()
    just_out.refresh_from_db()
    assert just_in.is_active and just_in.deactivated_at is None
    assert not just_out.is_active and just_out.deactivated_at == now
    assert just_out.deactivation_reason == "activation_deadline"
    line = AuditEvent.objects.get(action="account.deactivated")
    assert line.target_username == just_out.username and line.etablissement_uai == "0999999X"
    assert line.actor is None and line.detail["reason"] == "activation_deadline"


def test_three_months_with_the_command(newcomers, settings):
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS) - DAY, tick=False):
        assert "0 compte(s) désactivé(s)" in run()
    with time_machine.travel(start + datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS) + DAY, tick=False):
        out = run()
    assert "3 compte(s) désactivé(s)" in out and "eleve.0 [0999999X] : identifiants remis le" in out
    assert User.objects.filter(is_active=False, deactivation_reason="activation_deadline").count() == 3


def test_activated_accounts_are_never_touched(parent, now, settings):
    issued(parent, now - datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS + 10))
    assert expire_accounts(now=now).deactivated == [] and User.objects.filter(pk=parent.pk, is_active=True).exists()


def test_accounts_without_a_letter_are_never_touched(etab, now):
    make_user("sans.lettre", Profile.ELEVE, etab, password=None, activated=False)
    report = expire_accounts(now=now)
    assert report.deactivated == [] and report.deleted == []


def test_deletion_at_a_year_both_sides_with_audit(newcomers, now, settings, charter):
    year = datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS)
    kept = issued(newcomers[0], now - year)
    gone = issued(newcomers[1], now - year - datetime.timedelta(seconds=1))
    person_id = gone.person_id
    User.objects.filter(pk=gone.pk).update(is_active=False, deactivated_at=now - 200 * DAY, deactivation_reason="activation_deadline")
    tokens.issue_link(gone, Confirmation.Kind.ACTIVATION_EMAIL, payload={"email": "x@example.org"})
    SecretAnswer.objects.create(user=gone, question=1, answer_hash="x")
    CharterAcceptance.objects.create(user=gone, charter=charter)

    with time_machine.travel(now, tick=False):
        out = run()
    assert f"{gone.username} [0999999X] : identifiants remis le" in out and "supprimé" in out
    assert f"{kept.username} [0999999X] : identifiants remis le" in out and "désactivé" in out

    assert not User.objects.filter(pk=gone.pk).exists()
    assert not Confirmation.objects.filter(user_id=gone.pk).exists()
    assert not SecretAnswer.objects.filter(user_id=gone.pk).exists()
    assert not CharterAcceptance.objects.filter(user_id=gone.pk).exists()
    assert Person.objects.filter(pk=person_id).exists()  # the school's record stays
    line = AuditEvent.objects.get(action="account.deleted")
    assert line.target_username == gone.username and line.etablissement_uai == "0999999X"
    assert line.detail["reason"] == "activation_deadline"
    assert line.detail["credentials_issued_at"].startswith(str((now - year - datetime.timedelta(seconds=1)).date()))
    assert line.detail["deactivated_at"] is not None
    assert set(line.detail) == {"reason", "credentials_issued_at", "deactivated_at"}  # nothing personal
    # One year to the second: deactivated (past 3 months), not deleted.
    kept.refresh_from_db()
    assert not kept.is_active


def test_dry_run_changes_nothing(newcomers, now, settings):
    issued(newcomers[0], now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1))
    issued(newcomers[1], now - datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS + 1))
    before = list(User.objects.order_by("pk").values())
    out = run("--dry-run")
    assert "eleve.0 [0999999X] : identifiants remis le" in out and "serait désactivé" in out
    assert "eleve.1" in out and "serait supprimé" in out
    assert "Simulation" in out
    assert list(User.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(action__in=["account.deactivated", "account.deleted"]).exists()


def test_twice_changes_nothing_more(newcomers, now, settings):
    issued(newcomers[0], now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1))
    issued(newcomers[1], now - datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS + 1))
    first = expire_accounts(now=now)
    assert len(first.deactivated) == 1 and len(first.deleted) == 1
    snapshot = list(User.objects.order_by("pk").values())
    second = expire_accounts(now=now + datetime.timedelta(minutes=1))
    assert second.deactivated == [] and second.deleted == []
    assert list(User.objects.order_by("pk").values()) == snapshot
    assert AuditEvent.objects.filter(action__in=["account.deactivated", "account.deleted"]).count() == 2


def test_many_accounts_go_in_batches(etab, now, settings, monkeypatch):
    from cartable.activation import expiry

    monkeypatch.setattr(expiry, "BATCH_SIZE", 2)
    users = [make_user(f"lot.{i}", Profile.ELEVE, etab, password=None, activated=False) for i in range(5)]
    for user in users:
        issued(user, now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1))
    assert len(expire_accounts(now=now).deactivated) == 5
    assert AuditEvent.objects.filter(action="account.deactivated").count() == 5


def test_celery_task_runs_the_rules(newcomers, now, settings):
    from cartable.activation.tasks import expire_accounts_task

    issued(newcomers[0], now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1))
    assert expire_accounts_task() == {"deactivated": 1, "deleted": 0}
    assert settings.CELERY_BEAT_SCHEDULE["expire-accounts"]["task"] == "cartable.activation.expire_accounts"


def test_help_states_the_rules():
    from cartable.activation.management.commands.expire_accounts import Command

    assert "ACTIVATION_DEADLINE_DAYS" in Command.help and "ACCOUNT_DELETION_DAYS" in Command.help


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_handle_each_account_once(etab, division, settings):
    if connection.vendor != "postgresql":
        pytest.skip("two write transactions at once need PostgreSQL (SQLite serialises them)")
    from cartable.activation import expiry

    now = timezone.now()
    old = now - datetime.timedelta(days=settings.ACCOUNT_DELETION_DAYS + 1)
    late = now - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS + 1)
    users = [make_user(f"course.{i}", Profile.ELEVE, etab, password=None, activated=False) for i in range(40)]
    for i, user in enumerate(users):
        issued(user, old if i % 2 else late)

    barrier = threading.Barrier(2, timeout=10)
    reports: list = [None, None]
    errors: list = []

    def job(index: int) -> None:
        try:
            barrier.wait()
            reports[index] = expire_accounts(now=now)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    original = expiry.BATCH_SIZE
    expiry.BATCH_SIZE = 3  # many small batches, so the two runs interleave
    try:
        threads = [threading.Thread(target=job, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        expiry.BATCH_SIZE = original
    assert not errors, errors
    deactivated = [e.username for r in reports for e in r.deactivated]
    deleted = [e.username for r in reports for e in r.deleted]
    assert len(deactivated) == len(set(deactivated)) == 20
    assert len(deleted) == len(set(deleted)) == 20
    assert AuditEvent.objects.filter(action="account.deactivated").count() == 20
    assert AuditEvent.objects.filter(action="account.deleted").count() == 20
    assert not User.objects.filter(username__startswith="course.", is_active=True).exists()
