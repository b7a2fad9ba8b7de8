"""Identifiers: prenom.nom, ASCII, with a numeric suffix from 2 on when taken.

An identifier is given once and never changes (it is printed on letters and known to partner
services). Suffixes only grow: the identifier of a deleted account is not handed to someone else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from django.db import connection

from cartable.lib.text import ascii_fold

from .models import AuditEvent, User

# Audit actions whose target identifier stays reserved although its account row is gone.
RETIRED_ACTIONS = ("account.deleted",)

PART_MAX = 30
_NON_LETTERS = re.compile(r"[^a-z]+")
_SPLIT = re.compile(r"^(?P<base>[a-z-]+\.[a-z-]+)(?P<n>[0-9]*)$")


# Names repeat (a large import allocates hundreds of thousands of identifiers from far fewer
# first and last names): each spelling is folded once. Bounded, for long-lived processes.
@functools.lru_cache(maxsize=65536)
def _part(value: str, fallback: str) -> str:
    folded = _NON_LETTERS.sub("-", ascii_fold(value).lower()).strip("-")
    return folded[:PART_MAX].strip("-") or fallback


def base_identifier(first_name: str, last_name: str) -> str:
    """'Jean-Noël', "D'ARTAGNAN DE BAATZ" -> 'jean-noel.d-artagnan-de-baatz'."""
    return f"{_part(first_name, 'prenom')}.{_part(last_name, 'nom')}"


def lock_identifiers() -> None:
    """Serialise identifier allocation between concurrent imports (inside a transaction).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions are IMMEDIATE
    (settings), so the writer already holds the database lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x43415254])  # "CART"


class IdentifierAllocator:
    """Hands out unique identifiers, checking the database once per base (or once in all)."""

    def __init__(self, preload_all: bool = False) -> None:
        self._highest: dict[str, int] = {}  # base -> highest suffix in use (1: the bare base)
        self._loaded_all = preload_all
        if preload_all:
            self._absorb(User.objects.values_list("username", flat=True).iterator(chunk_size=10000))
            self._absorb(self._retired().iterator(chunk_size=10000))

    def _absorb(self, usernames: Iterable[str]) -> None:
        for username in usernames:
            match = _SPLIT.match(username)
            if not match:
                continue
            n = int(match["n"]) if match["n"] else 1
            base = match["base"]
            if n > self._highest.get(base, 0):
                self._highest[base] = n

    @staticmethod
    def _retired() -> Any:
        """Identifiers of deleted accounts: never handed to someone else."""
        return AuditEvent.objects.filter(action__in=RETIRED_ACTIONS).values_list("target_username", flat=True)

    def allocate(self, first_name: str, last_name: str) -> str:
        base = base_identifier(first_name, last_name)
        if base not in self._highest and not self._loaded_all:
            self._highest[base] = 0
            self._absorb(User.objects.filter(username__startswith=base).values_list("username", flat=True))
            self._absorb(self._retired().filter(target_username__startswith=base))
        n = self._highest.get(base, 0) + 1
        self._highest[base] = n
        return base if n == 1 else f"{base}{n}"
