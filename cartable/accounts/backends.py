"""Authentication by identifier (case-insensitive, surrounding spaces ignored)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


def normalise_identifier(value: str | None) -> str:
    return (value or "").strip().lower()


class IdentifierBackend(ModelBackend):
    """Django's ModelBackend on a normalised identifier.

    ModelBackend already hashes the submitted password when the identifier is unknown, so an
    unknown identifier costs the same time as a wrong password (no enumeration by timing).
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        return super().authenticate(request, username=normalise_identifier(username), password=password, **kwargs)
