"""A newer charter is asked at the next login, before anything else; the console publishes it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cartable.accounts.models import AuditEvent, Charter, CharterAcceptance
from cartable.activation.templatetags.activation import charter_html
from cartable.portal.tests.helpers import choose, log_in, login

from .helpers import location, text


@pytest.fixture
def version_2(charter) -> Charter:
    return Charter.objects.create(version=2, title="Charte v2", text="Nouvelle règle : soyez bienveillants.")


def test_charter_v2_is_asked_at_the_next_login(client, parent, charter, version_2):
    assert CharterAcceptance.objects.filter(user=parent, charter=charter).exists()  # accepted v1 on activation
    choose(client)
    response = login(client, parent.username)
    assert location(response) == f"{reverse('activation:charter_update')}?next=%2Faccueil%2F"
    assert client.session["_auth_user_id"] == str(parent.pk)  # logged in, but asked first
    page = text(client.get(location(response)))
    assert "La charte d'utilisation a changé" in page and "soyez bienveillants" in page
    # The home page (and every page guarded by charter_required) sends back to the charter.
    assert location(client.get(reverse("portal:home"))) == f"{reverse('activation:charter_update')}?next=%2Faccueil%2F"
    refused = client.post(reverse("activation:charter_update"), {"next": "/accueil/"})
    assert "Cochez la case" in text(refused)
    accepted = client.post(reverse("activation:charter_update"), {"accepte": "on", "next": "/accueil/"})
    assert location(accepted) == "/accueil/"
    assert CharterAcceptance.objects.filter(user=parent, charter=version_2).exists()
    assert AuditEvent.objects.filter(action="charter.accepted", target_username=parent.username).exists()
    assert client.get(reverse("portal:home")).status_code == 200


def test_the_login_keeps_next_through_the_charter(client, parent, version_2):
    choose(client)
    response = login(client, parent.username, data={"next": "/aide/"})
    assert location(response) == f"{reverse('activation:charter_update')}?next=%2Faide%2F"
    assert location(client.post(location(response), {"accepte": "on", "next": "/aide/"})) == "/aide/"


def test_foreign_next_is_ignored(client, parent, version_2):
    client.force_login(parent)
    response = client.post(reverse("activation:charter_update"), {"accepte": "on", "next": "https://evil.example/"})
    assert location(response) == reverse("portal:home")


def test_a_future_version_is_not_asked_yet(client, parent, charter):
    Charter.objects.create(version=2, title="v2", text="…", published_at=timezone.now() + datetime.timedelta(days=3))
    log_in(client, parent.username)


def test_an_account_that_never_accepted_is_asked(client, parent, charter):
    CharterAcceptance.objects.filter(user=parent).delete()
    choose(client)
    assert location(login(client, parent.username)).startswith(reverse("activation:charter_update"))


def test_accepted_charter_costs_one_query_per_page(client, parent, charter, django_assert_max_num_queries):
    log_in(client, parent.username)
    client.get(reverse("portal:home"))
    from cartable.activation.decorators import charter_required

    calls = []

    @charter_required
    def view(request):
        calls.append(1)
        from django.http import HttpResponse

        return HttpResponse("ok")

    from django.test import RequestFactory

    request = RequestFactory().get("/x/")
    request.user = parent
    request.session = client.session
    request.session.get("loaded")  # the session is read by every request anyway
    with django_assert_max_num_queries(1):
        view(request)
    assert calls == [1]


def test_charter_text_is_escaped_and_structured():
    html = charter_html("# Titre <b>\nLigne 1\nLigne 2\n\n- un\n- deux <script>")
    assert "<h3>Titre &lt;b&gt;</h3>" in html
    assert "<p>Ligne 1<br>Ligne 2</p>" in html
    assert "<li>deux &lt;script&gt;</li>" in html and "<script>" not in html


def test_the_data_migration_writes_version_1(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cartable.activation.migrations.0001_charter_v1")
    Charter.objects.all().delete()
    migration.create_charter(apps, None)
    migration.create_charter(apps, None)  # twice: still one
    [charter] = Charter.objects.all()
    assert charter.version == 1 and charter == Charter.current()
    for words in ("Informatique et Libertés", "RGPD", "ne les communiquez à personne", "harcèlement", "rectification"):
        assert words in charter.text
