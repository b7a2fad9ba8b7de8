"""The portal steps: profile, level, "Mémoriser ce choix"."""

from django.urls import reverse

from cartable.portal.choice import SESSION_KEY, cookie_name
from cartable.portal.tests.helpers import choose


def test_step1_lists_the_four_profiles(client, db):
    html = client.get(reverse("portal:start")).content.decode()
    for label in ("Élève ou parent", "Personnel de l&#x27;Éducation nationale", "Personnel de collectivité et invité",
                  "Enseignement agricole"):
        assert label in html


def test_step2_asks_the_level_for_pupils_and_parents(client, db):
    html = client.get(reverse("portal:start"), {"profil": "eleve_parent"}).content.decode()
    assert "Sélectionnez votre niveau" in html
    for label in ("École", "Collège", "Lycée"):
        assert label in html
    assert "Non (je me connecte depuis un lieu public)" in html
    assert 'id="memoriser-non" name="memoriser" value="non" checked' in html  # the default


def test_step2_skips_the_level_for_agricole_and_collectivite(client, db):
    for profile in ("agricole", "collectivite"):
        html = client.get(reverse("portal:start"), {"profil": profile}).content.decode()
        assert "Sélectionnez votre niveau" not in html
        response = client.post(reverse("portal:start"), {"profil": profile, "memoriser": "non"})
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == {"profile": profile, "level": "", "remember": False}


def test_level_is_required_when_the_profile_has_one(client, db):
    response = client.post(reverse("portal:start"), {"profil": "eleve_parent", "memoriser": "non"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="niveau-error"' in html
    assert "Choisissez votre niveau" in html


def test_unknown_profile_goes_back_to_step1(client, db):
    response = client.get(reverse("portal:start"), {"profil": "pirate"})
    assert "Sélectionnez votre profil" in response.content.decode()


def test_choice_without_remembering(client, db):
    response = choose(client, remember=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login")
    # Nothing kept on the device: the cookie is not set (only deleted, in case it was).
    cookie = response.cookies.get(cookie_name())
    assert cookie is None or cookie.value == ""
    assert client.session[SESSION_KEY] == {"profile": "eleve_parent", "level": "college", "remember": False}
    assert client.session.get_expire_at_browser_close()
    # The next visit to /connexion/ in this session goes to the login form…
    assert client.get(reverse("portal:start"))["Location"] == reverse("portal:login")
    # …but a new browser session starts again at step 1.
    client.cookies.pop("sessionid")
    assert client.get(reverse("portal:start")).status_code == 200


def test_choice_remembered_skips_to_the_login_form(client, db, settings):
    response = choose(client, remember=True)
    cookie = response.cookies[cookie_name()]
    assert cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) == settings.PORTAL_CHOICE_COOKIE_DAYS * 86400
    # A new browser session (session cookie gone) still skips the choice.
    client.cookies.pop("sessionid")
    response = client.get(reverse("portal:start"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login")
    html = client.get(reverse("portal:login")).content.decode()
    assert "Profil mémorisé sur cet ordinateur" in html
    assert "Élève ou parent · Collège" in html
    assert "Changer de profil" in html
    assert client.session[SESSION_KEY] == {"profile": "eleve_parent", "level": "college", "remember": True}


def test_remembered_cookie_is_secure_when_the_site_is(client, db, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"  # as settings.py does for an https SITE_URL
    response = choose(client, remember=True)
    assert cookie_name() == "__Host-cartable-portail"
    cookie = response.cookies[cookie_name()]
    assert cookie["secure"] is True
    assert cookie["path"] == "/" and not cookie["domain"]


def test_changer_de_profil_forgets_the_remembered_choice(client, db):
    choose(client, remember=True)
    response = client.get(reverse("portal:start"), {"changer": "1"})
    assert response.status_code == 200
    assert "Sélectionnez votre profil" in response.content.decode()
    assert response.cookies[cookie_name()].value == ""
    assert SESSION_KEY not in client.session
    assert client.get(reverse("portal:start")).status_code == 200  # no longer skipped


def test_answering_non_forgets_a_remembered_choice(client, db):
    choose(client, remember=True)
    # Step 2 offers "Oui" again to a device that remembered; the user now answers "Non".
    html = client.get(reverse("portal:start"), {"changer": "1", "profil": "eleve_parent"}).content.decode()
    assert 'id="memoriser-oui" name="memoriser" value="oui" checked' in html
    response = choose(client, level="lycee", remember=False)
    assert response.cookies[cookie_name()].value == ""
    client.cookies.pop("sessionid")
    assert client.get(reverse("portal:start")).status_code == 200


def test_tampered_cookie_is_ignored(client, db):
    client.cookies[cookie_name()] = "eleve_parent:college:forged"
    assert client.get(reverse("portal:start")).status_code == 200


def test_next_and_identifier_follow_the_steps(client, db):
    response = client.get(reverse("portal:start"), {"profil": "eleve_parent", "next": "/accueil/", "identifiant": "a.b"})
    html = response.content.decode()
    assert 'name="next" value="/accueil/"' in html
    assert 'name="identifiant" value="a.b"' in html
    response = choose(client, next="/accueil/", identifiant="a.b")
    assert response["Location"] == reverse("portal:login") + "?next=%2Faccueil%2F&identifiant=a.b"


def test_unsafe_next_is_dropped(client, db):
    response = choose(client, next="https://evil.example/")
    assert response["Location"] == reverse("portal:login")


def test_logged_in_user_skips_the_portal(client, parent):
    from cartable.portal.tests.helpers import log_in

    log_in(client, parent.username)
    assert client.get(reverse("portal:start"))["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:login"))["Location"] == reverse("portal:home")
