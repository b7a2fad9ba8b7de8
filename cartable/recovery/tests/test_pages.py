"""Every recovery page: no inline script or style (CSP), French, the portal's layout."""

import re

from django.urls import reverse

from cartable.delivery.models import OutgoingEmail

from .conftest import ADDRESS


def _pages(client) -> dict[str, str]:
    pages = {}
    for name in ("identifier", "password"):
        pages[name] = client.get(reverse(f"recovery:{name}")).content.decode()
    pages["identifier_sent"] = client.post(reverse("recovery:identifier"), {"adresse": ADDRESS}).content.decode()
    client.post(reverse("recovery:password"), {"identifiant": "claire.exemple"})
    for name in ("password_next", "password_questions"):
        pages[name] = client.get(reverse(f"recovery:{name}")).content.decode()
    link = next(w for w in OutgoingEmail.objects.latest("pk").text.split() if "/lien/" in w)
    client.get(link.split("127.0.0.1:8000", 1)[1])
    pages["password_set"] = client.get(reverse("recovery:password_set")).content.decode()
    pages["link_error"] = client.get(reverse("recovery:password_link", args=["x" * 43])).content.decode()
    return pages


def test_no_inline_script_or_style_and_the_portal_layout(client, parent):
    parent.email, parent.email_verified = ADDRESS, True
    parent.save()
    for name, html in _pages(client).items():
        assert "<style" not in html and " style=" not in html, name
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "onclick" not in html, name
        assert '<html lang="fr">' in html and "/static/portal/cartable.css" in html, name
        assert "/static/recovery/recovery.css" in html, name
        assert html.count("<h1") == 1, name


def test_content_security_policy_is_sent(client, db):
    response = client.get(reverse("recovery:password"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_new_password_script_is_served(client, db):
    from django.contrib.staticfiles import finders

    assert finders.find("recovery/new-password.js") and finders.find("recovery/recovery.css")
