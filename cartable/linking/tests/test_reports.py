"""Link reports: filed from Mon compte → Enfants, handled in the établissement's console queue."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from cartable.accounts.models import AuditEvent
from cartable.conftest import make_user
from cartable.directory.models import Guardianship, Profile
from cartable.linking.models import LinkReport
from cartable.linking.services import file_report

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:linking_linkreport_changelist"


@pytest.fixture
def link(parent, pupil) -> Guardianship:
    return Guardianship.objects.get(guardian=parent.person, pupil=pupil.person)


@pytest.fixture
def report(link, parent) -> LinkReport:
    return file_report(link, reporter=parent, source=LinkReport.Source.MYACCOUNT, comment="Je ne connais pas cet élève.")


# --- Mon compte → Enfants -------------------------------------------------------------------------


def test_a_parent_reports_a_link_from_mon_compte(client, parent, link, etab):
    client.force_login(parent)
    page = client.get(reverse("myaccount:children")).content.decode()
    url = reverse("linking:report", args=[link.pk])
    assert url in page and "Signaler une erreur sur ce lien" in page

    form = client.get(url).content.decode()
    assert "Léa EXEMPLE" in form and "Collège des Exemples" in form
    refused = client.post(url, {"commentaire": "x"})
    assert refused.status_code == 200 and "Cochez la case" in refused.content.decode()
    assert not LinkReport.objects.exists()

    response = client.post(url, {"confirme": "on", "commentaire": "Erreur de saisie."})
    assert response["Location"] == reverse("myaccount:children")
    report = LinkReport.objects.get()
    assert (report.guardian, report.pupil, report.etablissement) == (parent.person, link.pupil, etab)
    assert report.source == LinkReport.Source.MYACCOUNT and report.comment == "Erreur de saisie."
    assert AuditEvent.objects.filter(action="link.reported", etablissement_uai=etab.uai).exists()

    page = client.get(reverse("myaccount:children")).content.decode()
    assert "en attente de l" in page and url not in page
    # Filing again does not duplicate the open report.
    client.post(url, {"confirme": "on"})
    assert LinkReport.objects.count() == 1


def test_a_comment_is_length_limited(client, parent, link):
    client.force_login(parent)
    response = client.post(reverse("linking:report", args=[link.pk]), {"confirme": "on", "commentaire": "x" * 501})
    assert "trop long" in response.content.decode()
    assert not LinkReport.objects.exists()


def test_only_ones_own_links_can_be_reported(client, parent, link, etab):
    other = make_user("marc.autre", Profile.RESPONSABLE, etab, first_name="Marc", last_name="AUTRE")
    client.force_login(other)
    assert client.get(reverse("linking:report", args=[link.pk])).status_code == 404
    assert client.post(reverse("linking:report", args=[link.pk]), {"confirme": "on"}).status_code == 404
    assert not LinkReport.objects.exists()


def test_the_report_page_needs_a_login(client, link):
    response = client.get(reverse("linking:report", args=[link.pk]))
    assert response.status_code == 302 and "connexion" in response["Location"]


# --- The console queue ----------------------------------------------------------------------------


def test_the_queue_is_visible_to_that_etablissements_secretary_only(client, report, secretary, other_secretary):
    client.force_login(secretary)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Claire EXEMPLE" in page and "Léa EXEMPLE" in page
    assert client.get(reverse(CHANGELIST) + "?status__exact=ouvert").status_code == 200
    detail = client.get(reverse("admin:linking_linkreport_change", args=[report.pk])).content.decode()
    assert "Je ne connais pas cet élève." in detail

    client.force_login(other_secretary)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Léa EXEMPLE" not in page
    assert client.get(reverse("admin:linking_linkreport_change", args=[report.pk])).status_code == 404


def _act(client, action: str, report: LinkReport, **extra: str):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(report.pk)], **extra}
    return client.post(reverse(CHANGELIST), data)


def test_staff_fix_removes_the_link(client, report, secretary, parent, pupil, etab):
    client.force_login(secretary)
    confirm = _act(client, "fix_links", report)
    assert confirm.status_code == 200 and "SIECLE" in confirm.content.decode()
    assert Guardianship.objects.filter(guardian=parent.person, pupil=pupil.person).exists()  # nothing yet

    response = _act(client, "fix_links", report, confirm="yes", note="Lien retiré, SIECLE corrigé.")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == LinkReport.Status.FIXED and report.handled_by == secretary and report.handled_at
    assert not Guardianship.objects.filter(guardian=parent.person, pupil=pupil.person).exists()
    assert AuditEvent.objects.filter(action="link.removed", actor=secretary, etablissement_uai=etab.uai).exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("SIECLE" in m for m in messages)

    # The parent sees the answer.
    client.force_login(parent)
    page = client.get(reverse("myaccount:children")).content.decode()
    assert "Corrigé" in page and "Lien retiré, SIECLE corrigé." in page


def test_staff_reject_keeps_the_link(client, report, secretary, parent, pupil):
    client.force_login(secretary)
    _act(client, "reject_reports", report, confirm="yes", note="Vous êtes bien enregistrée comme mère.")
    report.refresh_from_db()
    assert report.status == LinkReport.Status.REJECTED and report.staff_note.startswith("Vous êtes bien")
    assert Guardianship.objects.filter(guardian=parent.person, pupil=pupil.person).exists()
    assert AuditEvent.objects.filter(action="link.report_rejected", actor=secretary).exists()
    # Handled once: a second answer changes nothing.
    _act(client, "fix_links", report, confirm="yes")
    report.refresh_from_db()
    assert report.status == LinkReport.Status.REJECTED
    client.force_login(parent)
    assert "Vous êtes bien enregistrée comme mère." in client.get(reverse("myaccount:children")).content.decode()


def test_another_etablissements_secretary_cannot_act(client, report, other_secretary, parent, pupil):
    client.force_login(other_secretary)
    _act(client, "fix_links", report, confirm="yes")
    report.refresh_from_db()
    assert report.is_open
    assert Guardianship.objects.filter(guardian=parent.person, pupil=pupil.person).exists()


def test_reports_cannot_be_added_or_deleted_in_the_console(client, report, secretary):
    client.force_login(secretary)
    assert client.get(reverse("admin:linking_linkreport_add")).status_code == 403
    assert client.get(reverse("admin:linking_linkreport_delete", args=[report.pk])).status_code == 403


def test_a_rejection_needs_a_note_for_the_parent(client, report, secretary):
    client.force_login(secretary)
    response = _act(client, "reject_reports", report, confirm="yes", note="")
    assert response.status_code == 200 and "Expliquez au parent" in response.content.decode()
    report.refresh_from_db()
    assert report.is_open


def test_staff_can_edit_links_directly_and_it_is_audited(client, link, report, secretary, etab):
    client.force_login(secretary)
    url = reverse("admin:directory_guardianship_change", args=[link.pk])
    assert client.get(url).status_code == 200
    data = {
        "guardian": link.guardian_id, "pupil": link.pupil_id, "etablissement": etab.pk, "level": 2,
        "relationship": "10", "lives_with": "unknown", "contact_first": "unknown",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    link.refresh_from_db()
    assert link.level == 2
    assert AuditEvent.objects.filter(action="link.updated", actor=secretary, detail__fields=["level"]).exists()

    response = client.post(reverse("admin:directory_guardianship_delete", args=[link.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Guardianship.objects.filter(pk=link.pk).exists()
    assert AuditEvent.objects.filter(action="link.removed", actor=secretary, detail__via="console").exists()
    # The open report about that link is answered by the removal.
    report.refresh_from_db()
    assert report.status == LinkReport.Status.FIXED
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("SIECLE" in m for m in messages)


def test_another_etablissements_link_cannot_be_edited(client, link, other_secretary):
    client.force_login(other_secretary)
    assert client.get(reverse("admin:directory_guardianship_change", args=[link.pk])).status_code == 404
