"""Every "Mon compte" page: no inline script or style (CSP), one h1, its stylesheet."""

import re

from django.urls import reverse


def test_no_inline_script_or_style(client, parent):
    client.force_login(parent)
    for name in ("profile", "children", "security"):
        html = client.get(reverse(f"myaccount:{name}")).content.decode()
        assert "<style" not in html and " style=" not in html, name
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "onclick" not in html, name
        assert "/static/myaccount/myaccount.css" in html and html.count("<h1") == 1, name
