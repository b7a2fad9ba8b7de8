"""Ticket validation, proxy tickets, attributes and single logout (Django's test client)."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
import time_machine
from cas import CASClientV3
from django.urls import reverse
from django.utils import timezone

from cartable.conftest import make_user
from cartable.directory.models import Profile, Teaching
from cartable.sso import views
from cartable.sso.models import AttributeProfile, Ticket

from .conftest import SERVICE_URL, make_service
from .helpers import attributes, cas_get, failure_code, get_ticket, success_user

pytestmark = pytest.mark.django_db

OTHER_URL = "https://cdi.exemple.fr/esidoc/"


@pytest.fixture
def logged_in(client, pupil):
    client.force_login(pupil)
    return client


# --- Error codes of the validation endpoints ---------------------------------------------------


@pytest.mark.parametrize("endpoint", ["serviceValidate", "proxyValidate", "p3/serviceValidate", "p3/proxyValidate"])
def test_missing_parameters_are_invalid_request(client, endpoint):
    assert failure_code(cas_get(client, endpoint)) == "INVALID_REQUEST"
    assert failure_code(cas_get(client, endpoint, ticket="ST-x")) == "INVALID_REQUEST"
    assert failure_code(cas_get(client, endpoint, service=SERVICE_URL)) == "INVALID_REQUEST"


def test_unknown_ticket_is_invalid_ticket(client, service):
    assert failure_code(cas_get(client, "serviceValidate", ticket="ST-" + "0" * 64, service=SERVICE_URL)) == "INVALID_TICKET"


def test_ticket_is_single_use(logged_in, service):
    ticket = get_ticket(logged_in, SERVICE_URL)
    assert success_user(cas_get(logged_in, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL))
    assert failure_code(cas_get(logged_in, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INVALID_TICKET"
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INVALID_TICKET"


def test_ticket_for_another_service_is_invalid_service_and_voided(logged_in, etab, service):
    make_service(etab, name="CDI", access_url=OTHER_URL, service_patterns=OTHER_URL + "*")
    ticket = get_ticket(logged_in, SERVICE_URL)
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=ticket, service=OTHER_URL)) == "INVALID_SERVICE"
    # The specification: INVALID_SERVICE also invalidates the ticket.
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INVALID_TICKET"


def test_ticket_expires(logged_in, service, settings):
    settings.SSO_TICKET_SECONDS = 300
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ticket = get_ticket(logged_in, SERVICE_URL)
        fresh = get_ticket(logged_in, SERVICE_URL)
    with time_machine.travel(start + datetime.timedelta(seconds=299), tick=False):
        assert success_user(cas_get(logged_in, "serviceValidate", ticket=fresh, service=SERVICE_URL))
    with time_machine.travel(start + datetime.timedelta(seconds=301), tick=False):
        assert failure_code(cas_get(logged_in, "serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INVALID_TICKET"


def test_two_validations_cannot_both_claim_a_ticket(logged_in, service):
    ticket = get_ticket(logged_in, SERVICE_URL)
    row = Ticket.objects.get()
    # Another validation claimed it between our read and our update: the conditional UPDATE loses.
    Ticket.objects.filter(pk=row.pk).update(used_at=timezone.now())
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INVALID_TICKET"


def test_inactive_service_after_issue_is_invalid_service(logged_in, service):
    ticket = get_ticket(logged_in, SERVICE_URL)
    service.active = False
    service.save()
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INVALID_SERVICE"


def test_internal_error_is_reported_not_raised(logged_in, service, monkeypatch):
    ticket = get_ticket(logged_in, SERVICE_URL)

    def broken(*args, **kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(views, "attributes_for", broken)
    assert failure_code(cas_get(logged_in, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL)) == "INTERNAL_ERROR"
    monkeypatch.setattr(views.tickets, "issue_proxy_ticket", broken)
    assert failure_code(cas_get(logged_in, "proxy", pgt="PGT-x", targetService=SERVICE_URL)) == "INTERNAL_ERROR"


def test_cas1_validate(logged_in, service):
    ticket = get_ticket(logged_in, SERVICE_URL)
    ok = logged_in.get(f"/cas/validate?{urlencode({'ticket': ticket, 'service': SERVICE_URL})}")
    assert ok.content == b"yes\nlea.exemple\n"
    again = logged_in.get(f"/cas/validate?{urlencode({'ticket': ticket, 'service': SERVICE_URL})}")
    assert again.content == b"no\n\n"


def test_error_messages_are_escaped_xml(client, service):
    response = client.get("/cas/serviceValidate?" + urlencode({"ticket": "ST-<x>&\"'", "service": SERVICE_URL}))
    assert b"<x>" not in response.content
    assert failure_code(cas_get(client, "serviceValidate", ticket="ST-<x>&", service=SERVICE_URL)) == "INVALID_TICKET"


# --- Attributes --------------------------------------------------------------------------------


def test_service_validate_has_no_attributes_p3_has_exactly_the_listed_ones(logged_in, service, pupil):
    ticket = get_ticket(logged_in, SERVICE_URL)
    root = cas_get(logged_in, "serviceValidate", ticket=ticket, service=SERVICE_URL)
    assert attributes(root) == []
    ticket = get_ticket(logged_in, SERVICE_URL)
    root = cas_get(logged_in, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL)
    assert attributes(root) == [("uid", "lea.exemple"), ("nom", "EXEMPLE"), ("prenom", "Léa")]


def test_nothing_listed_nothing_released(logged_in, service):
    service.released_attributes = []
    service.save()
    ticket = get_ticket(logged_in, SERVICE_URL)
    root = cas_get(logged_in, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL)
    assert success_user(root) == "lea.exemple"
    assert attributes(root) == []


def test_every_attribute_for_a_pupil(logged_in, service, pupil):
    service.released_attributes = ["uid", "nom", "prenom", "dateNaissance", "profils", "uai", "classes", "enfants"]
    service.save()
    ticket = get_ticket(logged_in, SERVICE_URL)
    response = logged_in.get("/cas/p3/serviceValidate?" + urlencode({"ticket": ticket, "service": SERVICE_URL}))
    released = attributes(ET.fromstring(response.content))  # noqa: S314  (our own answer)
    assert released == [
        ("uid", "lea.exemple"),
        ("nom", "EXEMPLE"),
        ("prenom", "Léa"),
        ("dateNaissance", "14/03/2015"),
        ("profils", "eleve"),
        ("uai", "0999999X"),
        ("classes", "6A"),
    ]
    assert pupil.password not in response.content.decode()


def test_parent_children_and_pronote_profile(client, service, parent, pupil):
    service.released_attributes = ["enfants"]
    service.attribute_profile = AttributeProfile.PRONOTE
    service.save()
    client.force_login(parent)
    ticket = get_ticket(client, SERVICE_URL)
    root = cas_get(client, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL)
    # Claire has no birth date in the directory: no dateNaissance rather than an empty one.
    assert attributes(root) == [
        ("nom", "EXEMPLE"),
        ("prenom", "Claire"),
        ("enfants", "lea.exemple"),
        ("categories", "National_2"),
    ]


def test_pronote_profile_for_pupil_teacher_and_staff(client, etab, division, pupil, teacher):
    service = make_service(etab, attribute_profile=AttributeProfile.PRONOTE, released_attributes=["classes"],
                           allowed_profiles=[p.value for p in Profile])
    Teaching.objects.create(teacher=teacher.person, etablissement=etab, division=division)
    cpe = make_user("anne.cpe", Profile.VIE_SCOLAIRE, etab, first_name="Anne", last_name="CPE")
    expected = {
        pupil: [("nom", "EXEMPLE"), ("prenom", "Léa"), ("dateNaissance", "14/03/2015"), ("classes", "6A"), ("categories", "National_1")],
        teacher: [("nom", "PROF"), ("prenom", "Paul"), ("classes", "6A"), ("categories", "National_3")],
        cpe: [("nom", "CPE"), ("prenom", "Anne"), ("categories", "National_4")],
    }
    for user, released in expected.items():
        client.force_login(user)
        ticket = get_ticket(client, SERVICE_URL)
        assert attributes(cas_get(client, "p3/serviceValidate", ticket=ticket, service=SERVICE_URL)) == released, user
    assert service.pk


# --- Proxy -------------------------------------------------------------------------------------


def pgt_for(client, receiver, local_service) -> str:
    ticket = get_ticket(client, local_service.access_url)
    root = cas_get(client, "p3/serviceValidate", ticket=ticket, service=local_service.access_url, pgtUrl=f"{receiver.url}/pgt")
    pgtiou = root.find("{http://www.yale.edu/tp/cas}authenticationSuccess/{http://www.yale.edu/tp/cas}proxyGrantingTicket").text
    assert pgtiou.startswith("PGTIOU-")
    return receiver.pgts[pgtiou]


def test_proxy_chain(logged_in, receiver, local_service, service):
    pgt = pgt_for(logged_in, receiver, local_service)
    assert pgt.startswith("PGT-")
    root = cas_get(logged_in, "proxy", pgt=pgt, targetService=SERVICE_URL)
    pt = root.find("{http://www.yale.edu/tp/cas}proxySuccess/{http://www.yale.edu/tp/cas}proxyTicket").text
    assert pt.startswith("PT-")
    # A proxy ticket is not a service ticket…
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=pt, service=SERVICE_URL)) == "INVALID_TICKET_SPEC"
    # …and that attempt voided it.
    assert failure_code(cas_get(logged_in, "proxyValidate", ticket=pt, service=SERVICE_URL)) == "INVALID_TICKET"
    root = cas_get(logged_in, "proxy", pgt=pgt, targetService=SERVICE_URL)
    pt = root.find("{http://www.yale.edu/tp/cas}proxySuccess/{http://www.yale.edu/tp/cas}proxyTicket").text
    root = cas_get(logged_in, "p3/proxyValidate", ticket=pt, service=SERVICE_URL)
    assert success_user(root) == "lea.exemple"
    proxies = [p.text for p in root.iter("{http://www.yale.edu/tp/cas}proxy")]
    assert proxies == [f"{receiver.url}/pgt"]
    assert attributes(root) == [("uid", "lea.exemple"), ("nom", "EXEMPLE"), ("prenom", "Léa")]


def test_proxy_errors(logged_in, receiver, local_service, service):
    assert failure_code(cas_get(logged_in, "proxy")) == "INVALID_REQUEST"
    assert failure_code(cas_get(logged_in, "proxy", pgt="PGT-" + "0" * 64, targetService=SERVICE_URL)) == "BAD_PGT"
    pgt = pgt_for(logged_in, receiver, local_service)
    assert failure_code(cas_get(logged_in, "proxy", pgt=pgt, targetService="https://inconnu.exemple.fr/")) == "INVALID_REQUEST"


def test_service_not_allowed_to_proxy(logged_in, receiver, local_service):
    local_service.proxy_allowed = False
    local_service.save()
    ticket = get_ticket(logged_in, local_service.access_url)
    root = cas_get(logged_in, "serviceValidate", ticket=ticket, service=local_service.access_url, pgtUrl=f"{receiver.url}/pgt")
    assert failure_code(root) == "UNAUTHORIZED_SERVICE_PROXY"
    assert receiver.gets == []


@pytest.mark.parametrize("pgt_url", ["https://ailleurs.exemple.net/pgt", "http://example.org/pgt", "javascript:1"])
def test_invalid_proxy_callback(logged_in, receiver, local_service, pgt_url):
    ticket = get_ticket(logged_in, local_service.access_url)
    root = cas_get(logged_in, "serviceValidate", ticket=ticket, service=local_service.access_url, pgtUrl=pgt_url)
    assert failure_code(root) == "INVALID_PROXY_CALLBACK"


def test_failing_callback_gives_no_pgt_but_validates(logged_in, receiver, local_service):
    ticket = get_ticket(logged_in, local_service.access_url)
    root = cas_get(logged_in, "serviceValidate", ticket=ticket, service=local_service.access_url, pgtUrl=f"{receiver.url}/fail")
    assert success_user(root) == "lea.exemple"
    assert root.find(".//{http://www.yale.edu/tp/cas}proxyGrantingTicket") is None
    assert not Ticket.objects.filter(kind="PGT", used_at__isnull=True).exists()


def test_pgt_dies_at_logout_and_single_logout_is_sent(logged_in, receiver, local_service, service):
    ticket = get_ticket(logged_in, local_service.access_url)
    root = cas_get(logged_in, "serviceValidate", ticket=ticket, service=local_service.access_url, pgtUrl=f"{receiver.url}/pgt")
    pgt = receiver.pgts[root.find(".//{http://www.yale.edu/tp/cas}proxyGrantingTicket").text]
    proxied = cas_get(logged_in, "proxy", pgt=pgt, targetService=SERVICE_URL)
    assert proxied.find("{http://www.yale.edu/tp/cas}proxySuccess") is not None
    unvalidated = get_ticket(logged_in, local_service.access_url)

    logged_in.post(reverse("portal:logout"))  # the portal's own logout ends the CAS session too

    assert failure_code(cas_get(logged_in, "proxy", pgt=pgt, targetService=SERVICE_URL)) == "BAD_PGT"
    assert failure_code(cas_get(logged_in, "serviceValidate", ticket=unvalidated, service=local_service.access_url)) == "INVALID_TICKET"
    assert len(receiver.posts) == 1
    path, form = receiver.posts[0]
    assert path == "/app/"
    assert CASClientV3.verify_logout_request(form["logoutRequest"][0], ticket)


def test_single_logout_callback_down_does_not_block_logout(logged_in, local_service, settings):
    settings.SSO_CALLBACK_TIMEOUT_SECONDS = 0.5
    local_service.logout_url = "http://127.0.0.1:9/slo"  # nothing listens there
    local_service.save()
    ticket = get_ticket(logged_in, local_service.access_url)
    assert success_user(cas_get(logged_in, "serviceValidate", ticket=ticket, service=local_service.access_url))
    response = logged_in.get(reverse("sso:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in logged_in.session


def test_health_is_a_plain_ok(client):
    # bench/sso.py's baseline: the server's simplest answer.
    response = client.get("/cas/health")
    assert response.status_code == 200 and response.content == b"ok\n"


def test_purge_keeps_what_can_still_be_used_or_named(logged_in, local_service, receiver, settings):
    from django.core.management import call_command

    from cartable.sso.tickets import purge

    settings.SSO_TICKET_SECONDS = 300
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        validated = get_ticket(logged_in, local_service.access_url)  # single logout: kept to be named
        assert success_user(cas_get(logged_in, "serviceValidate", ticket=validated, service=local_service.access_url))
        get_ticket(logged_in, local_service.access_url)  # never validated: dies at expiry
    with time_machine.travel(start + datetime.timedelta(seconds=299), tick=False):
        assert purge() == 0
    with time_machine.travel(start + datetime.timedelta(seconds=301), tick=False):
        assert purge() == 1
        assert Ticket.objects.exclude(logout_index="").count() == 1
    with time_machine.travel(start + datetime.timedelta(seconds=settings.SSO_PGT_SECONDS + 1), tick=False):
        call_command("purge_cas_tickets")
        assert not Ticket.objects.exists()


def test_control_characters_in_a_ticket_still_give_valid_xml(client, service):
    root = cas_get(client, "serviceValidate", ticket="ST-\x00\x1b<a>", service=SERVICE_URL)
    assert failure_code(root) == "INVALID_TICKET"


def test_a_merged_parent_is_a_parent_of_all_their_children_at_every_etablissement(
    client, etab, other_etab, parent, pupil
):
    """After a regroupement, the kept account speaks for the absorbed account's person too."""
    from cartable.directory.models import Division, Guardianship
    from cartable.merging.services import merge_accounts

    other_division = Division.objects.create(etablissement=other_etab, year=other_etab.current_year, code="CM2")
    sibling = make_user("tom.exemple", Profile.ELEVE, other_etab, first_name="Tom", division=other_division)
    second = make_user("claire.exemple2", Profile.RESPONSABLE, other_etab, first_name="Claire", last_name="EXEMPLE")
    Guardianship.objects.create(
        pupil=sibling.person, guardian=second.person, etablissement=other_etab, level=Guardianship.Level.LEGAL
    )
    merge_accounts(parent, second, actor=parent, via="self_service")
    make_service(
        other_etab,
        access_url="https://ecole.exemple.fr/cas/retour",
        service_patterns="https://ecole.exemple.fr/cas/*",
        released_attributes=["profils", "enfants"],
    )
    client.force_login(parent)  # the kept account: its own person is only known at `etab`
    url = "https://ecole.exemple.fr/cas/retour"
    ticket = get_ticket(client, url)
    root = cas_get(client, "p3/serviceValidate", ticket=ticket, service=url)
    assert success_user(root) == parent.username
    assert attributes(root) == [("profils", Profile.RESPONSABLE), ("enfants", "tom.exemple")]
