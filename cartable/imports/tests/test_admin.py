"""The console: import history (read-only, scoped) and the upload page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cartable.accounts.models import User
from cartable.directory.models import Person
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

from .conftest import SAMPLES

pytestmark = pytest.mark.django_db
UPLOAD = "admin:imports_importrun_upload"


def uploads(samples_dir):
    return [SimpleUploadedFile(name, (samples_dir / name).read_bytes(), "text/xml") for name in SAMPLES]


def test_secretary_imports_into_her_etablissement(client, secretary, etab, other_etab, samples_dir):
    client.force_login(secretary)
    page = client.get(reverse(UPLOAD))
    assert page.status_code == 200
    assert list(page.context["form"].fields["etablissement"].queryset) == [etab]
    response = client.post(reverse(UPLOAD), {"etablissement": etab.pk, "fichiers": uploads(samples_dir)})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Import réussi" in content
    run = ImportRun.objects.get()
    assert (run.etablissement, run.started_by, run.status) == (etab, secretary, ImportRun.Status.SUCCEEDED)
    assert response.context["counts"][0] == {"label": "Élèves", "figures": [30, 0, 0, 0]}
    assert Person.objects.filter(origin_id="1990038").exists()


def test_secretary_cannot_import_into_another_etablissement(client, secretary, other_etab, samples_dir):
    client.force_login(secretary)
    response = client.post(reverse(UPLOAD), {"etablissement": other_etab.pk, "fichiers": uploads(samples_dir)})
    assert response.status_code == 200
    assert "etablissement" in response.context["form"].errors
    assert not ImportRun.objects.exists() and not Person.objects.filter(origin_id="1990038").exists()


def test_dry_run_from_the_console(client, secretary, etab, samples_dir):
    client.force_login(secretary)
    response = client.post(reverse(UPLOAD), {"etablissement": etab.pk, "fichiers": uploads(samples_dir), "dry_run": "on"})
    assert "Essai à blanc" in response.content.decode()
    assert ImportRun.objects.get().status == ImportRun.Status.DRY_RUN
    assert not Person.objects.filter(origin_id="1990038").exists()


def test_refusal_is_shown_with_file_and_line(client, secretary, etab):
    client.force_login(secretary)
    bad = SimpleUploadedFile("ElevesSansAdresses.xml", b'<?xml version="1.0"?>\n<BEE_ELEVES>\n<PARAMETRES>', "text/xml")
    content = client.post(reverse(UPLOAD), {"etablissement": etab.pk, "fichiers": [bad]}).content.decode()
    assert "Import refusé : rien n'a été importé" in content
    assert "ElevesSansAdresses.xml, ligne 3" in content


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse(UPLOAD))
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_teacher_has_no_access(client, teacher):
    client.force_login(teacher)
    assert client.get(reverse(UPLOAD)).status_code == 302  # no console access at all


def test_staff_without_console_profile_is_refused(client, teacher):
    teacher.is_staff = True
    teacher.save()
    client.force_login(teacher)
    assert client.get(reverse(UPLOAD)).status_code == 403


def test_csrf_is_required(secretary, etab, samples_dir):
    client = Client(enforce_csrf_checks=True)
    client.force_login(secretary)
    response = client.post(reverse(UPLOAD), {"etablissement": etab.pk, "fichiers": uploads(samples_dir)})
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def test_history_is_scoped_and_read_only(client, secretary, other_secretary, etab, other_etab, sample_files):
    mine = run_import(etab, sample_files, actor=secretary)
    theirs = run_import(other_etab, sample_files)  # refused (wrong UAI), still recorded
    client.force_login(secretary)
    listing = client.get(reverse("admin:imports_importrun_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == [mine]
    assert "Importer des fichiers" in listing.content.decode()
    detail = client.get(reverse("admin:imports_importrun_change", args=[mine.pk]))
    assert detail.status_code == 200 and "Élèves : 30 créés" in detail.content.decode()
    assert client.get(reverse("admin:imports_importrun_change", args=[theirs.pk])).status_code == 302
    assert client.get(reverse("admin:imports_importrun_add")).status_code == 403
    assert client.post(reverse("admin:imports_importrun_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    assert ImportRun.objects.count() == 2

    admin = User.objects.create_superuser("admin")
    client.force_login(admin)
    assert client.get(reverse("admin:imports_importrun_changelist")).context["cl"].result_count == 2


def test_zipped_export_uploaded(client, secretary, etab, samples_dir):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ElevesSansAdresses.xml", (samples_dir / "ElevesSansAdresses.xml").read_bytes())
    upload = SimpleUploadedFile("ElevesSansAdresses.zip", buffer.getvalue(), "application/zip")
    client.force_login(secretary)
    response = client.post(reverse(UPLOAD), {"etablissement": etab.pk, "fichiers": [upload]})
    assert "Import réussi" in response.content.decode()
    assert ImportRun.objects.get().report["created"]["pupils"] == 30
