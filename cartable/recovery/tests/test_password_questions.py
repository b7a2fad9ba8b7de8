"""Forgotten password, account with neither address nor mobile: the two secret answers."""

import pytest
from django.urls import reverse

from cartable.accounts.questions import QUESTIONS
from cartable.conftest import PASSWORD
from cartable.recovery import decoys

from .conftest import ADDRESS, ANSWERS, NEW_PASSWORD, page

START = reverse("recovery:password")
QUESTIONS_URL = reverse("recovery:password_questions")
SET = reverse("recovery:password_set")
WRONG = "Ces réponses ne correspondent pas."


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def _answer(client, first: str, second: str):
    return client.post(QUESTIONS_URL, {"reponse_1": first, "reponse_2": second})


def test_the_accounts_own_questions_are_asked(client, questions_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    html = _text(client.get(QUESTIONS_URL))
    for number in ANSWERS:
        assert str(QUESTIONS[number]) in html
    assert "<fieldset>" in html and "<legend>" in html


@pytest.mark.parametrize(
    "first, second",
    [
        ("Nounours Brun", "Saint-Étienne"),
        ("  nounours   BRUN ", "saint-etienne"),
        ("NOUNOURS BRUN", "SAINT-ÉTIENNE"),
        ("nounoûrs brün", "Saint-Etienne"),
    ],
)
def test_answers_are_compared_without_case_accents_or_spaces(client, questions_parent, first, second):
    client.post(START, {"identifiant": "claire.exemple"})
    response = _answer(client, first, second)
    assert response.status_code == 302 and response["Location"] == SET
    client.post(SET, {"nouveau_mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    questions_parent.refresh_from_db()
    assert questions_parent.check_password(NEW_PASSWORD)


def test_one_wrong_answer_fails_generically(client, questions_parent):
    client.post(START, {"identifiant": "claire.exemple"})
    response = _answer(client, "Nounours Brun", "Paris")
    assert response.status_code == 200 and WRONG in _text(response)
    assert 'role="alert"' in _text(response)


def test_unknown_identifier_gets_two_fixed_questions_and_the_same_failure(client, questions_parent):
    client.post(START, {"identifiant": "personne.inconnue"})
    shown = decoys.questions("personne.inconnue")
    assert len(set(shown)) == 2
    first = client.get(QUESTIONS_URL)
    assert all(str(QUESTIONS[n]) in _text(first) for n in shown)
    assert page(client.get(QUESTIONS_URL)) == page(first)  # the same two every time
    assert decoys.questions("autre.inconnu") != shown or decoys.questions("encore.autre") != shown

    unknown = _answer(client, "a", "b")
    client.post(START, {"identifiant": "claire.exemple"})
    known = _answer(client, "a", "b")
    assert known.status_code == unknown.status_code == 200
    strip = [str(QUESTIONS[n]).replace("'", "&#x27;") for n in (*shown, *ANSWERS)]
    assert page(known, "claire.exemple", *strip) == page(unknown, "personne.inconnue", *strip)


def test_wrong_answers_are_throttled_per_account(client, questions_parent, settings):
    settings.RECOVERY_MAX_PER_ACCOUNT = 3
    client.post(START, {"identifiant": "claire.exemple"})
    assert WRONG in _text(_answer(client, "x", "y"))
    assert WRONG in _text(_answer(client, "x", "y"))
    third = _answer(client, "x", "y")
    assert third.status_code == 429 and "Trop de demandes. Réessayez dans" in _text(third)
    # Blocked: even the right answers are not checked.
    assert _answer(client, *ANSWERS.values()).status_code == 429
    questions_parent.refresh_from_db()
    assert questions_parent.check_password(PASSWORD)


def test_questions_do_not_open_an_account_that_has_an_address(client, questions_parent):
    """Where a link can be sent, answers relatives may know are not enough."""
    questions_parent.email, questions_parent.email_verified = ADDRESS, True
    questions_parent.save()
    client.post(START, {"identifiant": "claire.exemple"})
    assert WRONG in _text(_answer(client, *ANSWERS.values()))


def test_an_account_without_any_method_fails_like_the_others(client, parent):
    client.post(START, {"identifiant": "claire.exemple"})
    assert WRONG in _text(_answer(client, "a", "b"))
