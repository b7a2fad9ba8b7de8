"""Allowed service URLs of a registered service: exact URLs or prefixes ending in `*`.

No regular expressions: a registry typed by a secretary must not be able to say more than it
means (an unescaped dot in a regex, `https://pronote.example.fr.*`, lets a ticket go to
`https://pronote.example.fr.attacker.net/`). A prefix must therefore contain the host and at
least the `/` that starts the path, so it never matches a longer host name.

Schemes: https only; http is accepted for 127.0.0.1, ::1 and localhost (tests, a service
running on the same machine), where nothing travels over the network.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_URL_LENGTH = 2000
# Dot segments would let a prefix `https://h/app/*` reach `https://h/app/../admin`, which the
# browser turns into `https://h/admin`: a ticket for a page the prefix was meant to exclude.
_DOT_SEGMENT = re.compile(r"(^|/)\.{1,2}(/|$)")


def secure_scheme(url: str) -> bool:
    """https, or http to this machine only."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and (parts.hostname or "") in LOCAL_HOSTS


def acceptable_url(url: str) -> bool:
    """A URL a ticket (or a proxy-granting ticket) may be sent to, registry aside."""
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url) or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or not secure_scheme(url):
        return False
    return not _DOT_SEGMENT.search(unquote(parts.path))


def parse_patterns(text: str) -> list[str]:
    """The non-empty lines of the registry field."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def validate_pattern(pattern: str) -> None:
    """Raise ValidationError (French) if `pattern` is not a safe exact URL or prefix."""
    prefix = pattern[:-1] if pattern.endswith("*") else pattern
    if "*" in prefix:
        raise ValidationError(
            _("« %(pattern)s » : le caractère * n'est permis qu'à la fin de l'adresse.") % {"pattern": pattern}
        )
    if not acceptable_url(prefix):
        raise ValidationError(
            _(
                "« %(pattern)s » n'est pas une adresse acceptée : https:// obligatoire (http:// seulement pour "
                "127.0.0.1 ou localhost), sans identifiant, espace ni segment « .. »."
            )
            % {"pattern": pattern}
        )
    parts = urlsplit(prefix)
    if pattern.endswith("*") and not parts.path.startswith("/"):
        raise ValidationError(
            _("« %(pattern)s » : un préfixe doit contenir au moins la barre oblique après le nom d'hôte (https://hote/*).")
            % {"pattern": pattern}
        )
    if parts.fragment:
        raise ValidationError(_("« %(pattern)s » : pas de fragment (#) dans une adresse de service.") % {"pattern": pattern})


def validate_patterns(text: str) -> None:
    errors = []
    for pattern in parse_patterns(text):
        try:
            validate_pattern(pattern)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)


def matches(patterns: list[str], url: str) -> bool:
    """Whether `url` is one of the exact URLs or starts with one of the prefixes."""
    if not acceptable_url(url):
        return False
    for pattern in patterns:
        if pattern.endswith("*"):
            if url.startswith(pattern[:-1]):
                return True
        elif url == pattern:
            return True
    return False
