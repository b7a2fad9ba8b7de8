"""Allowed service URLs: exact or prefix, https only (http for this machine), no regex."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cartable.sso.patterns import acceptable_url, matches, validate_pattern, validate_patterns


@pytest.mark.parametrize(
    "pattern",
    [
        "https://pronote.exemple.fr/pronote/*",
        "https://pronote.exemple.fr/",
        "https://cdi.exemple.fr:8443/esidoc/login?x=1",
        "http://127.0.0.1:8001/*",
        "http://localhost/app",
    ],
)
def test_accepted_patterns(pattern):
    validate_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        "http://pronote.exemple.fr/*",  # http to another machine
        "https://pronote.exemple.fr*",  # a prefix without the path's slash matches longer hosts
        "https://*.exemple.fr/",  # * only at the end
        "^https://pronote\\.exemple\\.fr/.*$",  # a regex is not a URL
        "https://user:pw@pronote.exemple.fr/",
        "https://pronote.exemple.fr/a/../b/*",
        "javascript:alert(1)",
        "ftp://pronote.exemple.fr/",
        "https://pronote.exemple.fr/ x",
    ],
)
def test_refused_patterns(pattern):
    with pytest.raises(ValidationError):
        validate_pattern(pattern)


def test_validate_patterns_names_each_bad_line():
    with pytest.raises(ValidationError) as raised:
        validate_patterns("https://ok.exemple.fr/\nhttp://ko.exemple.fr/\n\nhttps://*.ko/")
    assert len(raised.value.messages) == 2


def test_matching_is_literal():
    patterns = ["https://pronote.exemple.fr/pronote/*", "https://cdi.exemple.fr/login"]
    assert matches(patterns, "https://pronote.exemple.fr/pronote/eleve.html?fd=1")
    assert matches(patterns, "https://cdi.exemple.fr/login")
    assert not matches(patterns, "https://cdi.exemple.fr/login?x=1")  # exact means exact
    assert not matches(patterns, "https://pronote.exemple.fr.attacker.net/pronote/")
    assert not matches(patterns, "https://pronote.exemple.fr/pronoteX")
    assert not matches(patterns, "https://pronote.exemple.fr/pronote/../admin")
    assert not matches(patterns, "https://pronote.exemple.fr/pronote/%2e%2e/admin")
    assert not matches(patterns, "http://pronote.exemple.fr/pronote/")


def test_acceptable_url():
    assert acceptable_url("https://a.fr/")
    assert acceptable_url("http://127.0.0.1:9/x")
    assert not acceptable_url("http://a.fr/")
    assert not acceptable_url("https://a.fr/\nx")
    assert not acceptable_url("https://a.fr:notaport/")
