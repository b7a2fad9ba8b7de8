"""Step b: a parent types each child's birth date; wrong dates count, and block for a while."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cartable.activation.forms import parse_french_date

from .helpers import accept_charter, give_birth_dates, location, start, text


@pytest.fixture
def at_birth_dates(client, letter):
    user, provisional = letter
    start(client, user.username, provisional)
    accept_charter(client)
    return user


@pytest.mark.parametrize("typed", ["14/03/2015", "14-03-2015", "14.03.2015", " 14 / 3 / 2015 ", "14032015"])
def test_accepted_spellings(typed):
    import datetime

    assert parse_french_date(typed) == datetime.date(2015, 3, 14)


@pytest.mark.parametrize("typed", ["2015-03-14", "31/02/2015", "14/03/15", "demain", ""])
def test_refused_spellings(typed):
    assert parse_french_date(typed) is None


def test_right_date_moves_on(client, at_birth_dates, pupil):
    assert location(give_birth_dates(client, {pupil.person.pk: "14/03/2015"})) == reverse("activation:email")


def test_form_is_accessible(client, at_birth_dates, pupil):
    html = client.get(reverse("activation:birth_dates")).content.decode()
    assert "<fieldset>" in html and "<legend>" in html
    field = f"enfant_{pupil.person.pk}"
    assert f'<label for="id_{field}">Date de naissance de Léa</label>' in html
    assert f'aria-describedby="{field}-hint"' in html and 'inputmode="numeric"' in html
    html = give_birth_dates(client, {pupil.person.pk: "14 mars"}).content.decode()
    assert "format JJ/MM/AAAA" in html and f'aria-describedby="{field}-hint {field}-error"' in html


def test_badly_typed_date_is_not_counted(client, at_birth_dates, pupil, settings):
    settings.BIRTHDATE_MAX_FAILURES = 1
    give_birth_dates(client, {pupil.person.pk: "99/99/2015"})
    assert location(give_birth_dates(client, {pupil.person.pk: "14/03/2015"})) == reverse("activation:email")


def test_wrong_date_says_neither_which_nor_the_right_one(client, at_birth_dates, pupil):
    response = give_birth_dates(client, {pupil.person.pk: "15/03/2015"})
    assert response.status_code == 200
    html = text(response)
    assert "Les dates saisies ne correspondent pas" in html and "il vous reste 4 essais" in html
    assert "14/03/2015" not in html and "2015-03-14" not in html


def test_several_children_all_must_match(client, letter, pupil, second_child):
    user, provisional = letter
    start(client, user.username, provisional)
    accept_charter(client)
    html = client.get(reverse("activation:birth_dates")).content.decode()
    assert "Date de naissance de Léa" in html and "Date de naissance de Hugo" in html
    response = give_birth_dates(client, {pupil.person.pk: "14/03/2015", second_child.pk: "03/09/2017"})
    assert "Les dates saisies ne correspondent pas" in response.content.decode()
    ok = give_birth_dates(client, {pupil.person.pk: "14/03/2015", second_child.pk: "02/09/2017"})
    assert location(ok) == reverse("activation:email")


def test_too_many_wrong_dates_block_with_a_delay(client, at_birth_dates, pupil, settings):
    settings.BIRTHDATE_MAX_FAILURES = 3
    settings.BIRTHDATE_LOCK_SECONDS = 600
    for _ in range(2):
        assert give_birth_dates(client, {pupil.person.pk: "01/01/2015"}).status_code == 200
    blocked = give_birth_dates(client, {pupil.person.pk: "01/01/2015"})
    assert blocked.status_code == 429
    assert "Trop d'essais. Réessayez dans 10 minutes" in text(blocked)
    assert 0 < int(blocked["Retry-After"]) <= 600
    # The right date is refused too while blocked, and the page says so on GET.
    assert give_birth_dates(client, {pupil.person.pk: "14/03/2015"}).status_code == 429
    assert client.get(reverse("activation:birth_dates")).status_code == 429


def test_block_lasts_the_configured_time(client, at_birth_dates, pupil, settings):
    import time

    import time_machine

    settings.BIRTHDATE_MAX_FAILURES = 1
    settings.BIRTHDATE_LOCK_SECONDS = 600
    now = time.time()
    with time_machine.travel(now, tick=False):
        assert give_birth_dates(client, {pupil.person.pk: "01/01/2015"}).status_code == 429
    with time_machine.travel(now + 590, tick=False):
        assert give_birth_dates(client, {pupil.person.pk: "14/03/2015"}).status_code == 429
    with time_machine.travel(now + 601, tick=False):
        assert location(give_birth_dates(client, {pupil.person.pk: "14/03/2015"})) == reverse("activation:email")


def test_the_block_is_per_account_not_per_browser(client, at_birth_dates, pupil, settings, letter):
    from django.test import Client

    settings.BIRTHDATE_MAX_FAILURES = 1
    give_birth_dates(client, {pupil.person.pk: "01/01/2015"})
    other = Client()
    user, provisional = letter
    start(other, user.username, provisional)
    accept_charter(other)
    assert give_birth_dates(other, {pupil.person.pk: "14/03/2015"}).status_code == 429
