"""/cas/login and /cas/logout with Django's test client: single sign-on, renew, gateway, refusals."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from cartable.conftest import PASSWORD
from cartable.directory.models import Profile
from cartable.sso.models import Ticket

from .conftest import SERVICE_URL, make_service
from .helpers import cas_get, failure_code, get_ticket, login_url, success_user, ticket_from

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_anonymous_goes_through_the_portal_login_and_comes_back(client, service):
    response = client.get(login_url(SERVICE_URL))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("portal:login")
    assert parse_qs(location.query)["next"] == [login_url(SERVICE_URL)]


def test_logged_in_user_gets_a_ticket_without_a_second_login(client, service, pupil):
    client.force_login(pupil)
    response = client.get(login_url(SERVICE_URL))
    assert response.status_code == 302
    assert response["Location"].startswith(SERVICE_URL + "?ticket=ST-")
    ticket = ticket_from(response["Location"])
    assert len(ticket) >= 32 and all(c.isalnum() or c == "-" for c in ticket)
    # Only a digest is stored.
    assert not Ticket.objects.filter(digest__contains=ticket[3:]).exists()
    root = cas_get(client, "serviceValidate", ticket=ticket, service=SERVICE_URL)
    assert success_user(root) == pupil.username


def test_service_url_query_is_kept(client, service, pupil):
    client.force_login(pupil)
    url = SERVICE_URL + "?fd=1&bydlg=A6ABB224"
    response = client.get(login_url(url))
    assert response["Location"].startswith(url + "&ticket=ST-")


def test_unregistered_service_is_refused_with_a_french_page(client, service, pupil):
    client.force_login(pupil)
    response = client.get(login_url("https://inconnu.exemple.fr/"))
    assert response.status_code == 403
    assert "n'est pas enregistré auprès de l'ENT" in text(response)
    assert not Ticket.objects.exists()


def test_unregistered_service_is_refused_even_anonymous_or_with_gateway(client, service):
    for params in ({}, {"gateway": "true"}):
        response = client.get(login_url("https://pronote.exemple.fr.attacker.net/pronote/", **params))
        assert response.status_code == 403


def test_inactive_service_is_refused(client, service, pupil):
    service.active = False
    service.save()
    client.force_login(pupil)
    response = client.get(login_url(SERVICE_URL))
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_profile_not_allowed_is_refused(client, etab, pupil):
    make_service(etab, allowed_profiles=[Profile.ENSEIGNANT])
    client.force_login(pupil)
    response = client.get(login_url(SERVICE_URL))
    assert response.status_code == 403
    assert "n'est pas ouvert à votre profil" in text(response)


def test_another_etablissement_service_is_refused(client, other_etab, pupil):
    make_service(other_etab)
    client.force_login(pupil)
    assert client.get(login_url(SERVICE_URL)).status_code == 403


def test_gateway_without_session_goes_back_without_ticket(client, service):
    response = client.get(login_url(SERVICE_URL, gateway="true"))
    assert response.status_code == 302
    assert response["Location"] == SERVICE_URL
    assert not Ticket.objects.exists()


def test_gateway_with_session_gives_a_ticket(client, service, pupil):
    client.force_login(pupil)
    response = client.get(login_url(SERVICE_URL, gateway="true"))
    assert ticket_from(response["Location"])


def test_renew_asks_the_password_again_despite_the_session(client, service, pupil):
    client.force_login(pupil)
    response = client.get(login_url(SERVICE_URL, renew="true"))
    assert response.status_code == 200
    assert "saisissiez à nouveau votre mot de passe" in text(response)
    assert not Ticket.objects.exists()

    wrong = client.post(reverse("sso:login"), {"service": SERVICE_URL, "renew": "true", "identifiant": pupil.username, "mot_de_passe": "faux"})
    assert wrong.status_code == 400
    assert "Identifiant ou mot de passe incorrect" in text(wrong)

    right = client.post(
        reverse("sso:login"), {"service": SERVICE_URL, "renew": "true", "identifiant": pupil.username, "mot_de_passe": PASSWORD}
    )
    assert right.status_code == 302
    ticket = ticket_from(right["Location"])
    root = cas_get(client, "serviceValidate", ticket=ticket, service=SERVICE_URL, renew="true")
    assert success_user(root) == pupil.username


def test_renew_logs_in_an_anonymous_user(client, service, pupil):
    response = client.post(
        reverse("sso:login"), {"service": SERVICE_URL, "renew": "true", "identifiant": pupil.username, "mot_de_passe": PASSWORD}
    )
    assert ticket_from(response["Location"])
    assert client.get(reverse("portal:home")).status_code == 200


def test_renew_validation_refuses_a_single_sign_on_ticket(client, service, pupil):
    client.force_login(pupil)
    ticket = get_ticket(client, SERVICE_URL)
    root = cas_get(client, "serviceValidate", ticket=ticket, service=SERVICE_URL, renew="true")
    assert failure_code(root) == "INVALID_TICKET_SPEC"


def test_gateway_is_ignored_with_renew(client, service):
    response = client.get(login_url(SERVICE_URL, renew="true", gateway="true"))
    assert response.status_code == 200  # the password form, not a redirect


def test_logout_ends_the_session_and_follows_only_registered_services(client, service, pupil):
    client.force_login(pupil)
    response = client.get(reverse("sso:logout") + "?service=" + SERVICE_URL)
    assert response.status_code == 302 and response["Location"] == SERVICE_URL
    assert client.get(login_url(SERVICE_URL))["Location"].startswith(reverse("portal:login"))

    client.force_login(pupil)
    response = client.get(reverse("sso:logout") + "?service=https://phishing.exemple.net/")
    assert response["Location"] == reverse("portal:index")


def test_login_without_service_goes_to_the_portal(client, pupil):
    assert client.get(reverse("sso:login"))["Location"] == reverse("portal:start")
    client.force_login(pupil)
    assert client.get(reverse("sso:login"))["Location"] == reverse("portal:home")


def test_ticket_is_appended_without_reencoding_the_service_url(client, service, pupil):
    client.force_login(pupil)
    url = SERVICE_URL + "?a=b%20c&flag#section"
    response = client.get(login_url(url))
    assert response["Location"].startswith(SERVICE_URL + "?a=b%20c&flag&ticket=ST-")
    assert response["Location"].endswith("#section")
    ticket = ticket_from(response["Location"].split("#")[0])
    assert success_user(cas_get(client, "serviceValidate", ticket=ticket, service=url)) == pupil.username


def test_renew_login_asks_a_new_charter_first(client, service, pupil):
    from cartable.accounts.models import Charter

    Charter.objects.create(version=2, title="Charte 2", text="Nouvelles règles", published_at=pupil.date_joined)
    response = client.post(
        reverse("sso:login"), {"service": SERVICE_URL, "renew": "true", "identifiant": pupil.username, "mot_de_passe": PASSWORD}
    )
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("activation:charter_update")
    assert not Ticket.objects.exists()


def test_single_sign_on_waits_for_a_new_charter(client, service, pupil):
    from cartable.accounts.models import Charter

    client.force_login(pupil)
    Charter.objects.create(version=2, title="Charte 2", text="Nouvelles règles", published_at=pupil.date_joined)
    response = client.get(login_url(SERVICE_URL))
    assert urlsplit(response["Location"]).path == reverse("activation:charter_update")
    assert client.get(login_url(SERVICE_URL, gateway="true"))["Location"] == SERVICE_URL
    assert not Ticket.objects.exists()
