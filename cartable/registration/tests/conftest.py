"""Personas and helpers for the self-registration tests.

- `newcomer`: the `parent` persona (Claire EXEMPLE, legal representative of Léa, born
  14/03/2015) whose account was never activated, with the mobile number the school recorded;
- `MOBILE` is that number as the school typed it, `E164` as Cartable normalises it.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from cartable.accounts.models import CharterAcceptance, User
from cartable.accounts.services import UNUSABLE_PASSWORD
from cartable.delivery.testing import last_sms_code

MOBILE = "06 12 34 56 78"
E164 = "+33612345678"
NEW_PASSWORD = "Inscription-Neuve-2026!"
BIRTH = "14/03/2015"  # Léa's (the `pupil` persona)


@pytest.fixture
def newcomer(parent) -> User:
    """The `parent` persona, never activated, with the school's record of her mobile."""
    parent.person.mobile = MOBILE
    parent.person.save()
    parent.activated_at = None
    parent.password = UNUSABLE_PASSWORD
    parent.save()
    CharterAcceptance.objects.filter(user=parent).delete()
    return parent


def start(client: Client, *, nom: str = "EXEMPLE", prenom: str = "Claire", portable: str = MOBILE):
    return client.post(reverse("registration:start"), {"nom": nom, "prenom": prenom, "portable": portable})


def send_code(client: Client, code: str):
    return client.post(reverse("registration:code"), {"code": code})


def wrong_code(right: str = "") -> str:
    """A 6-digit code other than `right`."""
    return "000000" if right != "000000" else "111111"


def confirm_children(client: Client, pupil_id: int, date: str = BIRTH, **extra: str):
    return client.post(reverse("registration:children"), {f"naissance_{pupil_id}": date, **extra})


def accept_charter(client: Client):
    return client.post(reverse("registration:charter"), {"accepte": "on"})


def choose_password(client: Client, password: str = NEW_PASSWORD):
    return client.post(reverse("registration:password"), {"mot_de_passe1": password, "mot_de_passe2": password})


def register(client: Client, pupil_id: int, **identity: str) -> object:
    """The whole SMS flow for `newcomer` (or `identity`), up to « Compte activé ! »."""
    assert start(client, **identity).status_code == 302
    assert send_code(client, last_sms_code(E164)).status_code == 302
    assert confirm_children(client, pupil_id).status_code == 302
    accept_charter(client)
    response = choose_password(client)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("registration:done")
    return response


_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page(response) -> str:
    """The body without its CSRF token (the rest must be identical between two cases)."""
    return _CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())
