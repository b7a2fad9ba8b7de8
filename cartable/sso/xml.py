"""CAS 3.0 XML responses, built with xml.etree (every value escaped by the serializer)."""

from __future__ import annotations

import datetime
import secrets
from xml.etree import ElementTree as ET  # noqa: S405  (we only build XML here, never parse it)

from django.http import HttpResponse

CAS_NS = "http://www.yale.edu/tp/cas"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ET.register_namespace("cas", CAS_NS)
ET.register_namespace("samlp", SAMLP_NS)
ET.register_namespace("saml", SAML_NS)


def _q(tag: str) -> str:
    return f"{{{CAS_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), attrib)
    if text is not None:
        element.text = text
    return element


def _response(root: ET.Element) -> HttpResponse:
    return HttpResponse(ET.tostring(root, encoding="utf-8"), content_type="application/xml; charset=utf-8")


def success(
    username: str,
    *,
    attributes: list[tuple[str, str]] | None = None,
    pgtiou: str = "",
    proxies: list[str] | None = None,
) -> HttpResponse:
    root = ET.Element(_q("serviceResponse"))
    block = _sub(root, "authenticationSuccess")
    _sub(block, "user", username)
    if attributes:
        attrs = _sub(block, "attributes")
        for name, value in attributes:
            _sub(attrs, name, value)
    if pgtiou:
        _sub(block, "proxyGrantingTicket", pgtiou)
    if proxies:
        chain = _sub(block, "proxies")
        for proxy in proxies:
            _sub(chain, "proxy", proxy)
    return _response(root)


def failure(code: str, message: str) -> HttpResponse:
    root = ET.Element(_q("serviceResponse"))
    _sub(root, "authenticationFailure", message, code=code)
    return _response(root)


def proxy_success(ticket: str) -> HttpResponse:
    root = ET.Element(_q("serviceResponse"))
    _sub(_sub(root, "proxySuccess"), "proxyTicket", ticket)
    return _response(root)


def proxy_failure(code: str, message: str) -> HttpResponse:
    root = ET.Element(_q("serviceResponse"))
    _sub(root, "proxyFailure", message, code=code)
    return _response(root)


def logout_request(session_index: str, now: datetime.datetime) -> bytes:
    """The SAML 2 LogoutRequest of CAS single logout, naming the service ticket."""
    root = ET.Element(
        f"{{{SAMLP_NS}}}LogoutRequest",
        {
            "ID": "LR-" + secrets.token_hex(16),
            "Version": "2.0",
            "IssueInstant": now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    ET.SubElement(root, f"{{{SAML_NS}}}NameID").text = "@NOT_USED@"
    ET.SubElement(root, f"{{{SAMLP_NS}}}SessionIndex").text = session_index
    return ET.tostring(root, encoding="utf-8")
