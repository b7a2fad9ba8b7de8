"""Personas for the recovery tests, one per recovery method, and page-comparison helpers.

- `email_parent`: `parent` with a verified address (reset by link);
- `sms_parent`: `parent` without address, with the mobile the school holds (reset by SMS code);
- `questions_parent`: `parent` with neither, and two secret answers (reset by questions).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import make_password

from cartable.accounts.models import SecretAnswer, User
from cartable.lib.text import normalise_answer

ADDRESS = "claire.exemple@exemple.fr"
SCHOOL_MOBILE = "06 12 34 56 78"
SCHOOL_MOBILE_E164 = "+33612345678"
# Question numbers (accounts.questions.QUESTIONS) and answers of `questions_parent`.
ANSWERS = {1: "Nounours Brun", 8: "Saint-Étienne"}
NEW_PASSWORD = "Cartable-Neuf-2026!"


@pytest.fixture
def email_parent(parent) -> User:
    parent.email = ADDRESS
    parent.email_verified = True
    parent.save()
    return parent


@pytest.fixture
def sms_parent(parent) -> User:
    parent.person.mobile = SCHOOL_MOBILE
    parent.person.save()
    return parent


@pytest.fixture
def questions_parent(parent) -> User:
    for question, answer in ANSWERS.items():
        SecretAnswer.objects.create(user=parent, question=question, answer_hash=make_password(normalise_answer(answer)))
    return parent


_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page(response, *replace: str) -> str:
    """The body without its CSRF token, and with each of `replace` (what was typed) blanked."""
    body = _CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())
    for text in replace:
        body = body.replace(text, "…")
    return body
