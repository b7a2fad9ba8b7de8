"""merge_accounts: what moves, what closes, what is refused."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from cartable.accounts import tokens
from cartable.accounts.models import (
    AuditEvent,
    Charter,
    CharterAcceptance,
    Confirmation,
    ExternalIdentity,
    SecretAnswer,
    User,
)
from cartable.accounts.persons import person_ids
from cartable.conftest import make_user
from cartable.delivery.models import OutgoingEmail
from cartable.directory.models import Guardianship, Profile
from cartable.imports.models import ImportRun
from cartable.merging.services import REASON, MergeRefused, merge_accounts

pytestmark = pytest.mark.django_db


def test_merge_moves_children_rows_and_closes_the_absorbed_account(parent, pupil, second_account, sibling, etab):
    keep, absorbed = parent, second_account
    # Rows owned by each account. Credentials: secret answers (both), a pending link (absorbed),
    # FranceConnect (absorbed only). Plain ownership (moved generically): console history and an
    # import run, standing for any future user-owned rows (an internal messaging app's).
    SecretAnswer.objects.create(user=keep, question=0, answer_hash=make_password("chat"))
    SecretAnswer.objects.create(user=absorbed, question=1, answer_hash=make_password("chien"))
    link = tokens.issue_link(absorbed, Confirmation.Kind.EMAIL_CHANGE, {"email": "x@exemple.fr"})
    ExternalIdentity.objects.create(user=absorbed, provider="franceconnect", subject="sub-absorbed")
    log = LogEntry.objects.create(user=absorbed, action_flag=ADDITION, object_repr="trace")
    run = ImportRun.objects.create(etablissement=etab, started_by=absorbed, status="succeeded")
    charter_v2 = Charter.objects.create(version=2, text="v2", published_at=timezone.now() - datetime.timedelta(days=1))
    CharterAcceptance.objects.create(user=absorbed, charter=charter_v2)
    absorbed.email, absorbed.email_verified, absorbed.mobile = "claire@exemple.fr", True, "+33612345678"
    absorbed.save()

    result = merge_accounts(keep, absorbed, actor=keep, via="self_service")

    absorbed.refresh_from_db()
    keep.refresh_from_db()
    assert absorbed.is_active is False and absorbed.merged_into == keep
    assert absorbed.deactivation_reason == REASON and absorbed.deactivated_at is not None
    assert absorbed.person_id is not None  # the importer still finds an account for that person
    assert person_ids(keep) == [keep.person_id, absorbed.person_id]
    # Both sets of children.
    children = set(Guardianship.objects.filter(guardian_id__in=person_ids(keep)).values_list("pupil_id", flat=True))
    assert children == {pupil.person_id, sibling.person_id}
    # Moved generically.
    log.refresh_from_db()
    run.refresh_from_db()
    assert log.user_id == keep.pk and run.started_by_id == keep.pk
    assert result.moved["admin.LogEntry.user"] == 1 and result.moved["imports.ImportRun.started_by"] == 1
    # Credentials handled one by one.
    assert list(keep.secret_answers.values_list("question", flat=True)) == [0]
    assert ExternalIdentity.objects.get(subject="sub-absorbed").user_id == keep.pk
    assert set(keep.charter_acceptances.values_list("charter__version", flat=True)) == {1, 2}
    assert CharterAcceptance.objects.filter(user=absorbed, charter__version=1).exists()  # duplicate left behind
    with pytest.raises(tokens.TokenUsed):
        tokens.peek_link(Confirmation.Kind.EMAIL_CHANGE, link)
    # Contact details the kept account lacked.
    assert keep.email == "claire@exemple.fr" and keep.email_verified and keep.mobile == "+33612345678"
    assert sorted(result.filled) == ["email", "mobile"]
    # Audited under both identifiers, with what moved and the absorbed account's children.
    lines = AuditEvent.objects.filter(action="account.merged")
    assert {line.target_username for line in lines} == {"claire.exemple", "claire.exemple2"}
    detail = lines.first().detail
    assert detail["kept"] == "claire.exemple" and detail["absorbed"] == "claire.exemple2"
    assert detail["via"] == "self_service" and detail["absorbed_children"] == ["Hugo EXEMPLE"]
    assert detail["moved"]["admin.LogEntry.user"] == 1 and detail["voided_confirmations"] == 1
    assert lines.first().actor_id == keep.pk
    # Notified (the absorbed account's verified address; the kept one had none before).
    notice = OutgoingEmail.objects.get()
    assert notice.to == ["claire@exemple.fr"] and "regroupés" in notice.subject
    assert "claire.exemple2" in notice.text and "Utilisez désormais l'identifiant claire.exemple" in notice.text
    assert "Hugo EXEMPLE" in notice.text and "Léa EXEMPLE" in notice.text and "<li>Hugo EXEMPLE</li>" in notice.html


def test_existing_credentials_of_the_kept_account_win(parent, second_account):
    ExternalIdentity.objects.create(user=parent, provider="franceconnect", subject="sub-kept")
    ExternalIdentity.objects.create(user=second_account, provider="franceconnect", subject="sub-absorbed")
    parent.email, parent.email_verified, parent.mobile = "kept@exemple.fr", True, "+33600000001"
    parent.save()
    second_account.email, second_account.email_verified, second_account.mobile = "other@exemple.fr", True, "+33600000002"
    second_account.save()

    result = merge_accounts(parent, second_account, actor=None, via="staff")

    parent.refresh_from_db()
    assert parent.email == "kept@exemple.fr" and parent.mobile == "+33600000001" and result.filled == []
    assert ExternalIdentity.objects.get(subject="sub-kept").user_id == parent.pk
    assert ExternalIdentity.objects.get(subject="sub-absorbed").user_id == second_account.pk
    assert result.left["accounts.ExternalIdentity.user"] == 1
    # Both addresses on file are told, one message each.
    assert sorted(addr for m in OutgoingEmail.objects.all() for addr in m.to) == ["kept@exemple.fr", "other@exemple.fr"]


def test_unverified_address_is_neither_copied_nor_notified(parent, second_account):
    second_account.email, second_account.email_verified = "unverified@exemple.fr", False
    second_account.save()
    second_account.person.email = "ecole@exemple.fr"  # the address the school recorded
    second_account.person.save()
    merge_accounts(parent, second_account, actor=None, via="staff")
    parent.refresh_from_db()
    assert parent.email == ""
    assert [m.to for m in OutgoingEmail.objects.all()] == [["ecole@exemple.fr"]]


def test_the_kept_account_history_finds_the_absorbed_account_lines(parent, second_account):
    from cartable.accounts.services import audit
    from cartable.merging.services import history_filter, merged_identifiers

    audit("password.changed", actor=second_account, target=second_account)  # before the merge
    merge_accounts(parent, second_account, actor=None, via="staff")
    assert merged_identifiers(parent) == ["claire.exemple", "claire.exemple2"]
    actions = set(AuditEvent.objects.filter(history_filter(parent)).values_list("target_username", "action"))
    assert ("claire.exemple2", "password.changed") in actions and ("claire.exemple", "account.merged") in actions


def test_chains_are_flattened(parent, pupil, second_account, sibling, etab):
    third = make_user("claire.exemple3", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE")
    cadet = make_user("tom.exemple", Profile.ELEVE, etab, first_name="Tom", last_name="EXEMPLE")
    Guardianship.objects.create(pupil=cadet.person, guardian=third.person, etablissement=etab, level=1)
    merge_accounts(second_account, third, actor=None, via="staff")  # 3 -> 2
    assert person_ids(second_account) == [second_account.person_id, third.person_id]

    result = merge_accounts(parent, second_account, actor=None, via="staff")  # 2 -> 1

    third.refresh_from_db()
    assert third.merged_into_id == parent.pk  # repointed: one level is enough
    assert result.repointed == ["claire.exemple3"]
    assert set(person_ids(parent)) == {parent.person_id, second_account.person_id, third.person_id}
    assert person_ids(second_account) == [second_account.person_id]
    pupils = set(Guardianship.objects.filter(guardian_id__in=person_ids(parent)).values_list("pupil_id", flat=True))
    assert pupils == {pupil.person_id, sibling.person_id, cadet.person_id}


def test_refusals(parent, second_account, teacher, secretary, pupil, etab):
    before = AuditEvent.objects.count()
    with pytest.raises(MergeRefused, match="même compte"):
        merge_accounts(parent, User.objects.get(pk=parent.pk), actor=None, via="staff")
    with pytest.raises(MergeRefused, match="console") as staff:
        merge_accounts(parent, secretary, actor=None, via="staff")
    assert staff.value.code == "staff"
    superuser = User.objects.create_superuser("root", "x")
    with pytest.raises(MergeRefused, match="console"):
        merge_accounts(superuser, parent, actor=None, via="staff")
    with pytest.raises(MergeRefused, match="Seuls des comptes de parents") as teacher_refusal:
        merge_accounts(parent, teacher, actor=None, via="staff")
    assert teacher_refusal.value.code == "not_responsable"
    with pytest.raises(MergeRefused, match="Seuls des comptes de parents"):
        merge_accounts(pupil, parent, actor=None, via="staff")
    with pytest.raises(ValueError):
        merge_accounts(parent, second_account, actor=None, via="anything")
    assert AuditEvent.objects.count() == before and not OutgoingEmail.objects.exists()

    merge_accounts(parent, second_account, actor=None, via="staff")
    third = make_user("claire.exemple3", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE")
    with pytest.raises(MergeRefused, match="déjà été regroupé") as already:
        merge_accounts(third, second_account, actor=None, via="staff")  # absorbed already merged
    assert already.value.code == "already_merged"
    with pytest.raises(MergeRefused, match="déjà été regroupé"):
        merge_accounts(second_account, third, actor=None, via="staff")  # kept one already merged
    with pytest.raises(MergeRefused, match="déjà été regroupé"):
        merge_accounts(parent, second_account, actor=None, via="staff")  # the same merge twice


def test_child_links_alone_make_a_responsable(parent, etab, pupil):
    """A person recorded with child links but no responsable profile (another school's export)."""
    other = make_user("claire.autre", Profile.ENSEIGNANT, etab, first_name="Claire", last_name="EXEMPLE")
    Guardianship.objects.create(pupil=pupil.person, guardian=other.person, etablissement=etab, level=2)
    merge_accounts(parent, other, actor=None, via="staff")
    assert User.objects.get(pk=other.pk).merged_into_id == parent.pk


def test_a_refused_merge_changes_nothing(parent, second_account):
    parent.is_active = False
    parent.save()
    with pytest.raises(MergeRefused, match="désactivé"):
        merge_accounts(parent, second_account, actor=None, via="staff")
    second_account.refresh_from_db()
    assert second_account.is_active and second_account.merged_into_id is None


def test_sessions_of_the_absorbed_account_end(client, parent, second_account):
    client.force_login(second_account)
    assert client.get("/mon-compte/").status_code == 200
    merge_accounts(parent, second_account, actor=None, via="staff")
    # is_active=False: Django's ModelBackend.get_user refuses the account, the session is anonymous.
    response = client.get("/mon-compte/")
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_sign_in_tickets_are_revoked_and_link_reports_follow_the_person(parent, second_account, sibling, etab):
    from cartable.linking.models import LinkReport
    from cartable.sso.models import Service, Ticket

    service = Service.objects.create(etablissement=etab, name="Pronote", service_patterns="https://pronote.exemple.fr/")
    now = timezone.now()
    ticket = Ticket.objects.create(
        kind="PGT", digest="d" * 64, user=second_account, service=service, url="https://pronote.exemple.fr/pgt",
        created_at=now, expires_at=now + datetime.timedelta(hours=1),
    )
    report = LinkReport.objects.create(
        guardian=second_account.person, pupil=sibling.person, etablissement=etab, reporter=second_account, source="mon_compte"
    )

    from oauth2_provider.models import AccessToken, Application, RefreshToken

    client = Application.objects.create(
        name="Appli", client_type="public", authorization_grant_type="authorization-code",
        redirect_uris="https://appli.exemple.fr/retour",
    )
    access = AccessToken.objects.create(user=second_account, application=client, token="a" * 40, expires=now, scope="openid")
    RefreshToken.objects.create(user=second_account, application=client, token="r" * 40, access_token=access)

    result = merge_accounts(parent, second_account, actor=None, via="staff")

    assert not Ticket.objects.filter(pk=ticket.pk).exists()  # a closed account's PGT must die
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()  # nor its OAuth tokens
    assert result.revoked["sso.Ticket.user"] == 1 and "oauth2_provider.AccessToken.user" in result.revoked
    report.refresh_from_db()
    assert report.reporter_id == parent.pk
    assert AuditEvent.objects.filter(action="account.merged").first().detail["revoked"]["sso.Ticket.user"] == 1
