"""Helpers of the CAS tests (Django's test client)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree as ET

from django.urls import reverse

NS = {"cas": "http://www.yale.edu/tp/cas"}


def login_url(service: str, **params: str) -> str:
    return f"{reverse('sso:login')}?{urlencode({'service': service, **params})}"


def ticket_from(location: str) -> str | None:
    values = parse_qs(urlsplit(location).query).get("ticket")
    return values[0] if values else None


def get_ticket(client, service: str, **params: str) -> str:
    response = client.get(login_url(service, **params))
    assert response.status_code == 302, response.content.decode()[:500]
    ticket = ticket_from(response["Location"])
    assert ticket, response["Location"]
    return ticket


def cas_get(client, endpoint: str, **params: str):
    """GET a CAS endpoint; returns the parsed XML root."""
    response = client.get(f"/cas/{endpoint}?{urlencode(params)}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.content)  # noqa: S314  (our own server's answer, in a test)


def failure_code(root) -> str | None:
    node = root.find("cas:authenticationFailure", NS)
    if node is None:
        node = root.find("cas:proxyFailure", NS)
    return None if node is None else node.get("code")


def success_user(root) -> str | None:
    node = root.find("cas:authenticationSuccess/cas:user", NS)
    return None if node is None else node.text


def attributes(root) -> list[tuple[str, str]]:
    node = root.find("cas:authenticationSuccess/cas:attributes", NS)
    if node is None:
        return []
    return [(child.tag.split("}")[1], child.text or "") for child in node]
