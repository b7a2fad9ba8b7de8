from django.urls import reverse

from cartable.portal.tests.helpers import log_in


def test_logout_is_post_only_get_asks_to_confirm(client, parent):
    log_in(client, parent.username)
    response = client.get(reverse("portal:logout"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post" action="/deconnexion/"' in html
    assert "_auth_user_id" in client.session  # still logged in


def test_logout_flushes_the_session_and_confirms_in_french(client, parent):
    log_in(client, parent.username)
    old_key = client.session.session_key
    response = client.post(reverse("portal:logout"), follow=True)
    assert response.redirect_chain == [(reverse("portal:index"), 302)]
    assert "Vous êtes déconnecté" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.session.session_key != old_key
    assert client.get(reverse("portal:home")).status_code == 302


def test_logout_needs_the_csrf_token(parent):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(parent)
    response = client.post(reverse("portal:logout"))
    assert response.status_code == 403
    assert "_auth_user_id" in client.session


def test_anonymous_get_goes_home(client, db):
    assert client.get(reverse("portal:logout"))["Location"] == reverse("portal:index")


def test_other_methods_are_refused(client, parent):
    log_in(client, parent.username)
    assert client.put(reverse("portal:logout")).status_code == 405
