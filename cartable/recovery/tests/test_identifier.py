"""Forgotten identifier: e-mail address → the identifiers, by e-mail, without telling who exists."""

import pytest
from django.urls import reverse

from cartable.accounts.models import AuditEvent
from cartable.conftest import make_user
from cartable.delivery.models import OutgoingEmail
from cartable.directory.models import Profile

from .conftest import ADDRESS, page

URL = reverse("recovery:identifier")
ANSWER = "Si cette adresse correspond à un compte, vous allez recevoir un courriel"


def test_form_is_reached_from_the_login_page(client, db):
    login_page = client.get(reverse("portal:login")).content.decode()
    assert reverse("portal:forgot_identifier") in login_page
    html = client.get(reverse("portal:forgot_identifier")).content.decode()
    assert '<label for="id_adresse">Votre adresse électronique</label>' in html
    assert 'autocomplete="email"' in html and 'aria-describedby="id_adresse_helptext"' in html
    assert f'action="{URL}"' in html


def test_known_and_unknown_addresses_get_the_same_answer(client, email_parent):
    known = client.post(URL, {"adresse": ADDRESS})
    unknown = client.post(URL, {"adresse": "personne@exemple.fr"})
    assert known.status_code == unknown.status_code == 200
    assert ANSWER in known.content.decode()
    assert page(known, ADDRESS) == page(unknown, "personne@exemple.fr")
    # Only the known address gets a message.
    assert [m.to for m in OutgoingEmail.objects.all()] == [[ADDRESS]]


def test_only_a_verified_address_gets_the_identifier(client, email_parent):
    email_parent.email_verified = False
    email_parent.save()
    response = client.post(URL, {"adresse": ADDRESS})
    assert ANSWER in response.content.decode()
    assert not OutgoingEmail.objects.exists()


def test_deactivated_account_is_not_listed(client, email_parent):
    email_parent.is_active = False
    email_parent.save()
    client.post(URL, {"adresse": ADDRESS})
    assert not OutgoingEmail.objects.exists()


def test_every_account_of_the_address_is_listed_in_one_email(client, email_parent, etab):
    second = make_user("claire.exemple2", Profile.RESPONSABLE, etab, first_name="Claire", last_name="EXEMPLE")
    second.email, second.email_verified = ADDRESS.upper(), True  # the address matches without case
    second.save()
    client.post(URL, {"adresse": f"  {ADDRESS} "})
    message = OutgoingEmail.objects.get()
    assert message.subject == "Cartable : vos identifiants"
    assert "claire.exemple (Claire EXEMPLE)" in message.text and "claire.exemple2 (Claire EXEMPLE)" in message.text
    assert AuditEvent.objects.filter(action="identifier.reminder_sent").count() == 2


@pytest.mark.django_db(transaction=True)
def test_email_goes_out_through_smtp_with_text_and_html(client, email_parent, smtp_server):
    client.post(URL, {"adresse": ADDRESS})
    message = smtp_server.wait_for(ADDRESS)
    assert message["Subject"] == "Cartable : votre identifiant"
    text = smtp_server.text_of(message)
    assert "claire.exemple (Claire EXEMPLE)" in text
    assert "&#x27;" not in text  # the text part is not HTML-escaped
    assert smtp_server.link_in(message, "/connexion/identifiant/").endswith("?identifiant=claire.exemple")
    assert "<strong>claire.exemple</strong>" in smtp_server.html_of(message)


def test_invalid_address_is_refused_in_french_with_aria(client, db):
    html = client.post(URL, {"adresse": "pas-une-adresse"}).content.decode()
    assert "Saisissez une adresse électronique valide" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_adresse_helptext id_adresse_error"' in html
    assert 'id="id_adresse_error"' in html


def test_throttled_per_submitted_address_known_or_not(client, email_parent, settings):
    settings.RECOVERY_MAX_PER_ACCOUNT = 2
    for address in (ADDRESS, "personne@exemple.fr"):
        for _ in range(2):
            assert client.post(URL, {"adresse": address}).status_code == 200
        blocked = client.post(URL, {"adresse": address})
        assert blocked.status_code == 429
        assert "Trop de demandes. Réessayez dans 60 minutes." in blocked.content.decode()
        assert int(blocked["Retry-After"]) > 3500
    assert OutgoingEmail.objects.count() == 2


def test_throttled_per_client_address(client, db, settings):
    settings.RECOVERY_MAX_PER_ADDRESS = 3
    for n in range(3):
        assert client.post(URL, {"adresse": f"a{n}@exemple.fr"}).status_code == 200
    assert client.post(URL, {"adresse": "autre@exemple.fr"}).status_code == 429
    # Another client is not blocked.
    assert client.post(URL, {"adresse": "autre@exemple.fr"}, REMOTE_ADDR="192.0.2.7").status_code == 200
