"""Public sessions ("Mémoriser ce choix : Non") end after PUBLIC_SESSION_IDLE_SECONDS idle."""

import datetime

import time_machine
from django.urls import reverse
from django.utils import timezone

from cartable.portal.choice import SESSION_KEY
from cartable.portal.tests.helpers import log_in


def test_public_session_ends_after_idle_time(client, parent, settings):
    assert settings.PUBLIC_SESSION_IDLE_SECONDS == 20 * 60
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        log_in(client, parent.username, remember=False)
        traveller.shift(datetime.timedelta(minutes=19))
        assert client.get(reverse("portal:home")).status_code == 200
        # Activity slides the deadline: 19 more minutes after the last request is still fine.
        traveller.shift(datetime.timedelta(minutes=19))
        assert client.get(reverse("portal:home")).status_code == 200
        traveller.shift(datetime.timedelta(minutes=20, seconds=2))
        response = client.get(reverse("portal:home"))
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session
        # The user lands on the login form (the choice is kept) with an explanation.
        response = client.get(response["Location"], follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("portal:login"))
        assert "Vous avez été déconnecté après 20 minutes d&#x27;inactivité." in response.content.decode()
        assert client.session[SESSION_KEY]["profile"] == "eleve_parent"
        assert client.session.get_expire_at_browser_close()


def test_last_seen_is_written_at_most_once_a_minute(client, parent):
    from cartable.portal.services import LAST_SEEN_KEY

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        log_in(client, parent.username)
        first = client.session[LAST_SEEN_KEY]
        traveller.shift(datetime.timedelta(seconds=30))
        response = client.get(reverse("portal:home"))
        assert client.session[LAST_SEEN_KEY] == first
        assert "sessionid" not in response.cookies  # session not rewritten
        traveller.shift(datetime.timedelta(seconds=31))
        client.get(reverse("portal:home"))
        assert client.session[LAST_SEEN_KEY] == first + 61


def test_private_session_has_no_idle_limit(client, parent):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        log_in(client, parent.username, remember=True)
        traveller.shift(datetime.timedelta(hours=3))
        assert client.get(reverse("portal:home")).status_code == 200


def test_private_session_ends_after_the_private_duration(client, parent, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        log_in(client, parent.username, remember=True)
        traveller.shift(datetime.timedelta(seconds=settings.PRIVATE_SESSION_SECONDS + 1))
        assert client.get(reverse("portal:home")).status_code == 302
