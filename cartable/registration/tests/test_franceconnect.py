"""FranceConnect's first use: names from the provider, then the number, the code, the children."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cartable.accounts.models import AuditEvent, CharterAcceptance, ExternalIdentity
from cartable.delivery.models import OutgoingSMS
from cartable.delivery.testing import last_sms_code
from cartable.linking.models import LinkReport

from .conftest import E164, MOBILE, accept_charter, confirm_children, page, send_code

pytestmark = [pytest.mark.django_db, pytest.mark.urls("cartable.registration.tests.fc_urls")]


def begin(client, **claims: str):
    query = "&".join(f"{key}={value}" for key, value in claims.items())
    response = client.get("/test-franceconnect/" + (f"?{query}" if query else ""))
    assert response["Location"] == reverse("registration:mobile")
    return response


def test_first_use_links_the_identity_activates_and_logs_in(client, newcomer, pupil, charter):
    client.cookies.load({})
    begin(client)
    body = page(client.get(reverse("registration:mobile")))
    assert "Claire Marie EXEMPLE" in body and 'name="nom"' not in body
    response = client.post(reverse("registration:mobile"), {"portable": MOBILE})
    assert response["Location"] == reverse("registration:code")
    assert send_code(client, last_sms_code(E164))["Location"] == reverse("registration:children")
    assert confirm_children(client, pupil.person.pk)["Location"] == reverse("registration:charter")
    response = accept_charter(client)
    assert response["Location"] == reverse("portal:home")

    newcomer.refresh_from_db()
    assert newcomer.activated_at is not None and not newcomer.has_usable_password()
    identity = ExternalIdentity.objects.get(user=newcomer)
    assert (identity.provider, identity.subject) == ("franceconnect", "sub-claire")
    assert CharterAcceptance.objects.filter(user=newcomer, charter=charter).exists()
    assert AuditEvent.objects.filter(action="account.registered", detail__via="franceconnect").exists()
    # Logged in, with the provider's id_token kept for the logout.
    assert int(client.session["_auth_user_id"]) == newcomer.pk
    assert client.session["franceconnect_id_token"] == "id-token-for-logout"
    assert client.get(reverse("portal:home")).status_code == 200


def test_an_activated_account_keeps_its_password(client, parent, pupil):
    parent.person.mobile = MOBILE
    parent.person.save()
    begin(client)
    client.post(reverse("registration:mobile"), {"portable": MOBILE})
    send_code(client, last_sms_code(E164))
    response = confirm_children(client, pupil.person.pk)  # charter already accepted
    assert response["Location"] == reverse("portal:home")
    parent.refresh_from_db()
    assert parent.has_usable_password()
    assert ExternalIdentity.objects.filter(user=parent, subject="sub-claire").exists()


def test_any_of_the_given_names_matches(client, newcomer, pupil):
    newcomer.person.first_name = "Marie-Claire"
    newcomer.person.save()
    begin(client, given_name="Anne%20Marie%20Claire")
    client.post(reverse("registration:mobile"), {"portable": MOBILE})
    assert OutgoingSMS.objects.filter(to=E164).count() == 1


def test_other_names_do_not_match(client, newcomer, pupil):
    begin(client, family_name="DURAND")
    response = client.post(reverse("registration:mobile"), {"portable": MOBILE})
    assert response["Location"] == reverse("registration:code")  # the same next page…
    assert not OutgoingSMS.objects.exists()  # …and no SMS


def test_a_rejected_link_is_reported_as_franceconnect(client, newcomer, pupil, etab):
    from cartable.conftest import make_user
    from cartable.directory.models import Guardianship, Profile

    other = make_user("zoe.exemple", Profile.ELEVE, etab, first_name="Zoé", last_name="EXEMPLE", birth_date=pupil.person.birth_date)
    Guardianship.objects.create(pupil=other.person, guardian=newcomer.person, etablissement=etab, level=1)
    begin(client)
    client.post(reverse("registration:mobile"), {"portable": MOBILE})
    send_code(client, last_sms_code(E164))
    confirm_children(client, pupil.person.pk, **{f"refus_{other.person.pk}": "on"})
    assert LinkReport.objects.get().source == LinkReport.Source.FRANCECONNECT


def test_a_subject_already_linked_elsewhere_is_refused(client, newcomer, pupil, teacher, charter):
    ExternalIdentity.objects.create(user=teacher, provider="franceconnect", subject="sub-claire")
    begin(client)
    client.post(reverse("registration:mobile"), {"portable": MOBILE})
    send_code(client, last_sms_code(E164))
    confirm_children(client, pupil.person.pk)
    response = accept_charter(client)
    assert response.status_code == 409 and "déjà liée à un autre compte" in page(response)
    newcomer.refresh_from_db()
    assert newcomer.activated_at is None  # nothing written
    assert "_auth_user_id" not in client.session


def test_the_session_is_rotated_but_keeps_the_franceconnect_keys(client, newcomer):
    client.get(reverse("registration:start"))
    session = client.session
    session["planted"] = "x"
    session.save()
    before = client.cookies["sessionid"].value
    begin(client)
    assert client.cookies["sessionid"].value != before
    assert "planted" not in client.session
    assert client.session["franceconnect_id_token"] == "id-token-for-logout"
