"""CAS 3.0 XML responses, built with lxml (every value escaped by the serializer).

lxml rather than xml.etree: its serializer is C, xml.etree's is Python (a tenth of a validation's
time in the profile of bench/sso.py).
"""

from __future__ import annotations

import datetime
import secrets

from django.http import HttpResponse
from lxml import etree as ET

CAS_NS = "http://www.yale.edu/tp/cas"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
NSMAP = {"cas": CAS_NS}


def _q(tag: str) -> str:
    return f"{{{CAS_NS}}}{tag}"


def _root() -> ET._Element:
    return ET.Element(_q("serviceResponse"), nsmap=NSMAP)


def _sub(parent: ET._Element, tag: str, text: str | None = None, **attrib: str) -> ET._Element:
    element = ET.SubElement(parent, _q(tag), attrib)
    if text is not None:
        element.text = text
    return element


# No XML declaration: clients that parse the answer (or the LogoutRequest, a form field) as a
# decoded string with lxml refuse one that declares an encoding.
def _response(root: ET._Element) -> HttpResponse:
    return HttpResponse(
        ET.tostring(root, encoding="utf-8"), content_type="application/xml; charset=utf-8"
    )


def success(
    username: str,
    *,
    attributes: list[tuple[str, str]] | None = None,
    pgtiou: str = "",
    proxies: list[str] | None = None,
) -> HttpResponse:
    root = _root()
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
    root = _root()
    _sub(root, "authenticationFailure", message, code=code)
    return _response(root)


def proxy_success(ticket: str) -> HttpResponse:
    root = _root()
    _sub(_sub(root, "proxySuccess"), "proxyTicket", ticket)
    return _response(root)


def proxy_failure(code: str, message: str) -> HttpResponse:
    root = _root()
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
        nsmap={"samlp": SAMLP_NS, "saml": SAML_NS},
    )
    ET.SubElement(root, f"{{{SAML_NS}}}NameID").text = "@NOT_USED@"
    ET.SubElement(root, f"{{{SAMLP_NS}}}SessionIndex").text = session_index
    return ET.tostring(root, encoding="utf-8")
