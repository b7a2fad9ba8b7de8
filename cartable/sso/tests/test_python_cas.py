"""An independent CAS client (python-cas, from PyPI) against a live server over real HTTP.

The "service" is the local receiver (conftest.Receiver): it gets the browser after login, the
pgtUrl callback and the single-logout POST. The browser is a requests session that fills the
portal's own login form.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cas import CASClientV1, CASClientV2, CASClientV3

from cartable.conftest import PASSWORD
from cartable.sso.models import AttributeProfile

from .conftest import make_service

pytestmark = pytest.mark.django_db(transaction=True)


def portal_login(live_server, browser: requests.Session, login_url: str, username: str) -> str:
    """Follow the CAS login URL through the portal's login form; returns the ticket given to the service."""
    response = browser.get(login_url, allow_redirects=False)
    assert response.status_code == 302
    form_url = urljoin(live_server.url, response.headers["Location"])
    assert urlsplit(form_url).path == "/connexion/identifiant/"
    page = browser.get(form_url)
    assert page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    next_url = re.search(r'name="next" value="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    response = browser.post(
        urljoin(live_server.url, "/connexion/identifiant/"),
        data={"csrfmiddlewaretoken": csrf, "identifiant": username, "mot_de_passe": PASSWORD, "next": next_url},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    response = browser.get(urljoin(live_server.url, response.headers["Location"]), allow_redirects=False)
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["ticket"][0]


def test_python_cas_login_attributes_proxy_logout(live_server, receiver, etab, pupil):
    service = make_service(
        etab,
        name="Service local",
        access_url=f"{receiver.url}/app/",
        service_patterns=f"{receiver.url}/app/\n{receiver.url}/pgt\n{receiver.url}/autre/*",
        released_attributes=["uid", "classes"],
        attribute_profile=AttributeProfile.PRONOTE,
        proxy_allowed=True,
        single_logout=True,
    )
    cas_url = live_server.url + "/cas/"
    client = CASClientV3(service_url=service.access_url, server_url=cas_url, proxy_callback=f"{receiver.url}/pgt")
    browser = requests.Session()

    ticket = portal_login(live_server, browser, client.get_login_url(), pupil.username)
    user, attributes, pgtiou = client.verify_ticket(ticket)
    assert user == "lea.exemple"
    assert attributes == {
        "uid": "lea.exemple",
        "classes": "6A",
        "nom": "EXEMPLE",
        "prenom": "Léa",
        "dateNaissance": "14/03/2015",
        "categories": "National_1",
    }
    # Reused ticket: refused.
    assert client.verify_ticket(ticket)[0] is None

    # Proxy: the service asks for a ticket to another of its URLs on Léa's behalf.
    pgt = receiver.pgts[pgtiou]
    target = CASClientV3(service_url=f"{receiver.url}/autre/page", server_url=cas_url)
    proxy_ticket = target.get_proxy_ticket(pgt)
    assert proxy_ticket.startswith("PT-")
    assert target.verify_ticket(proxy_ticket)[0] is None  # p3/serviceValidate refuses proxy tickets
    proxy_ticket = target.get_proxy_ticket(pgt)
    target.url_suffix = "p3/proxyValidate"
    assert target.verify_ticket(proxy_ticket)[0] == "lea.exemple"

    # Single sign-on: a second ticket without a form; CAS 2 and CAS 1 clients validate it too.
    v2 = CASClientV2(service_url=service.access_url, server_url=cas_url)
    response = browser.get(v2.get_login_url(), allow_redirects=False)
    second = parse_qs(urlsplit(response.headers["Location"]).query)["ticket"][0]
    assert v2.verify_ticket(second) == ("lea.exemple", None, None)
    v1 = CASClientV1(service_url=service.access_url, server_url=cas_url)
    third = parse_qs(urlsplit(browser.get(v1.get_login_url(), allow_redirects=False).headers["Location"]).query)["ticket"][0]
    assert v1.verify_ticket(third)[0] == "lea.exemple"
    wrong_service = CASClientV3(service_url=f"{receiver.url}/autre/x", server_url=cas_url)
    fourth = parse_qs(urlsplit(browser.get(client.get_login_url(), allow_redirects=False).headers["Location"]).query)["ticket"][0]
    assert wrong_service.verify_ticket(fourth)[0] is None  # a ticket for another service

    # Logout: back to the (registered) service, every validated ticket's service told, PGT dead.
    response = browser.get(client.get_logout_url(service.access_url), allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == service.access_url
    told = {form["logoutRequest"][0] for _path, form in receiver.posts}
    assert any(CASClientV3.verify_logout_request(body, ticket) for body in told)
    with pytest.raises(Exception, match="Bad http code|BAD_PGT"):
        target.get_proxy_ticket(pgt)
    response = browser.get(client.get_login_url(), allow_redirects=False)
    assert urlsplit(response.headers["Location"]).path == "/connexion/identifiant/"


def test_python_cas_renew(live_server, receiver, etab, pupil):
    service = make_service(etab, access_url=f"{receiver.url}/app/", service_patterns=f"{receiver.url}/app/")
    cas_url = live_server.url + "/cas/"
    browser = requests.Session()
    portal_login(live_server, browser, CASClientV3(service_url=service.access_url, server_url=cas_url).get_login_url(), pupil.username)

    client = CASClientV3(service_url=service.access_url, server_url=cas_url, renew=True)
    page = browser.get(client.get_login_url(), allow_redirects=False)
    assert page.status_code == 200 and "mot de passe" in page.text  # asked again despite the session
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = browser.post(
        cas_url + "login",
        data={"csrfmiddlewaretoken": csrf, "service": service.access_url, "renew": "true",
              "identifiant": pupil.username, "mot_de_passe": PASSWORD},
        allow_redirects=False,
    )
    ticket = parse_qs(urlsplit(response.headers["Location"]).query)["ticket"][0]
    assert client.verify_ticket(ticket)[0] == "lea.exemple"
