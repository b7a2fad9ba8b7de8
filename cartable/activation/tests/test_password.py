"""Step e: the new password, under the deployment's policy, typed twice; the live checks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cartable.accounts.models import User

from .helpers import choose_password, location, start, text, until_password


@pytest.fixture
def at_password(client, pupil_letter):
    user, provisional = pupil_letter
    until_password(client, user, provisional)
    return user, provisional


def errors_for(client, password, confirmation=None) -> str:
    response = choose_password(client, password, confirmation)
    assert response.status_code == 200
    return text(response)


def test_page_shows_the_policy_and_the_live_checks(client, at_password):
    html = client.get(reverse("activation:password")).content.decode()
    assert "Au moins 8 caractères mêlant au moins trois types" in html  # current_policy().describe()
    assert 'data-password-check' in html and 'data-min="8"' in html and 'data-min-bits="50"' in html
    assert 'id="password-checks" hidden' in html and 'aria-live="polite"' in html
    assert '/static/activation/password-check.js' in html and "<script>" not in html
    assert 'autocomplete="new-password"' in html
    assert 'aria-describedby="policy password-checks"' in html
    assert 'value="nina.neuve" autocomplete="username" hidden' in html


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("court1A", "au moins 8 caractères"),
        ("motdepasse", "trop facile à deviner"),
        ("Nina-Neuve-2027!", "ni votre identifiant, ni vos noms"),
        ("Password123", "mots de passe les plus courants"),
    ],
)
def test_policy_errors(client, at_password, password, message):
    html = errors_for(client, password)
    assert message in html
    assert 'aria-describedby="policy password-checks mot_de_passe1-error"' not in html  # errors first
    assert 'aria-describedby="mot_de_passe1-error policy password-checks"' in html


def test_scolarite_services_policy(client, at_password, settings):
    settings.PASSWORD_POLICY = "scolarite-services"
    assert "lettres ET des chiffres" in errors_for(client, "seulementdeslettres")
    assert "au plus 14 caractères" in errors_for(client, "Beaucoup-trop-long-2027")
    assert location(choose_password(client, "Ecole2027x")) == reverse("activation:done")


def test_the_two_passwords_must_match(client, at_password):
    assert "Les deux mots de passe ne sont pas identiques." in errors_for(client, "Cartable!Ecole-2027", "Cartable!Ecole-2028")


def test_the_provisional_password_cannot_be_kept(client, at_password):
    _user, provisional = at_password
    assert "différent du mot de passe provisoire" in errors_for(client, provisional)


def test_nothing_is_written_on_a_refused_password(client, at_password):
    user, provisional = at_password
    errors_for(client, "court")
    user = User.objects.get(pk=user.pk)
    assert not user.is_activated and user.check_password(provisional)


def test_password_is_never_kept_in_the_session(client, pupil_letter):
    user, provisional = pupil_letter
    start(client, user.username, provisional)
    until_password(Client := client, user, provisional)  # noqa: N806
    choose_password(Client, "Cartable!Ecole-2027", "autre")
    session = dict(client.session)
    assert "Cartable!Ecole-2027" not in str(session) and provisional not in str(session)
