"""The validation's hand-written SQL gives the same objects as the ORM, and safe ones."""

from __future__ import annotations

import pytest

from cartable.accounts.tokens import digest
from cartable.sso import hotpath
from cartable.sso.models import Service

from .conftest import SERVICE_URL
from .helpers import get_ticket

pytestmark = pytest.mark.django_db


def test_lookup_matches_the_orm(client, service, pupil):
    client.force_login(pupil)
    ticket = hotpath.lookup(digest(get_ticket(client, SERVICE_URL)))
    assert ticket is not None
    assert (ticket.kind, ticket.url, ticket.primary, ticket.session_key) == ("ST", SERVICE_URL, False, client.session.session_key)
    assert ticket.user.username == pupil.username and ticket.user.is_active is True
    assert ticket.user.person.last_name == "EXEMPLE" and ticket.user.person.birth_date.isoformat() == "2015-03-14"
    assert ticket.service.released_attributes == ["uid", "nom", "prenom"]
    assert ticket.service.active is True and ticket.service.proxy_allowed is False
    assert ticket.service.etablissement.uai == "0999999X"
    assert hotpath.memberships(pupil.pk, service.etablissement_id) == [("eleve", "6A")]
    assert hotpath.lookup(digest("ST-inconnu")) is None


def test_partial_instances_never_overwrite_unloaded_fields(client, service, pupil):
    service.description = "Notes et cahier de textes"
    service.save()
    client.force_login(pupil)
    ticket = hotpath.lookup(digest(get_ticket(client, SERVICE_URL)))
    ticket.service.name = "Pronote (renommé)"
    ticket.service.save()  # only the loaded fields are written
    service.refresh_from_db()
    assert service.name == "Pronote (renommé)"
    assert service.description == "Notes et cahier de textes"
    assert Service.objects.get().access_url == SERVICE_URL


def test_claim_is_single_use(client, service, pupil):
    from django.utils import timezone

    client.force_login(pupil)
    ticket = hotpath.lookup(digest(get_ticket(client, SERVICE_URL)))
    now = timezone.now()
    assert hotpath.claim(ticket.pk, now) is True
    assert hotpath.claim(ticket.pk, now) is False
