"""The home page after login, per profile: only the user's own data."""

import datetime

from django.urls import reverse
from django.utils import timezone

from cartable.conftest import make_user
from cartable.directory.models import (
    Division,
    Group,
    Guardianship,
    Membership,
    Person,
    Profile,
    Subject,
    Teaching,
)
from cartable.portal.tests.helpers import log_in


def home_html(client) -> str:
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_home_requires_login(client, db):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302


def test_parent_sees_own_children_only(client, parent, pupil, etab, division, other_etab):
    # A second child of the parent, in another établissement and class.
    other_division = Division.objects.create(etablissement=other_etab, year=2026, code="4B", label="4e B")
    brother = make_user("hugo.exemple", Profile.ELEVE, other_etab, first_name="Hugo", last_name="EXEMPLE",
                        division=other_division)
    Guardianship.objects.create(pupil=brother.person, guardian=parent.person, etablissement=other_etab, level=1)
    # Someone else's child in the same class, and a child the parent is only a contact for.
    stranger = make_user("tom.autre", Profile.ELEVE, etab, first_name="Tom", last_name="AUTRE", division=division)
    other_parent = make_user("eve.autre", Profile.RESPONSABLE, etab, first_name="Ève", last_name="AUTRE")
    Guardianship.objects.create(pupil=stranger.person, guardian=other_parent.person, etablissement=etab, level=1)
    contact_only = Person.objects.create(first_name="Zoé", last_name="VOISINE")
    Membership.objects.create(person=contact_only, etablissement=etab, profile=Profile.ELEVE, division=division)
    Guardianship.objects.create(pupil=contact_only, guardian=parent.person, etablissement=etab, level=3)

    log_in(client, parent.username)
    html = home_html(client)
    assert "Bonjour Claire EXEMPLE" in html
    assert "Mes enfants" in html
    assert "Léa EXEMPLE" in html and "Classe 6e A" in html
    assert "Hugo EXEMPLE" in html and "Classe 4e B" in html and "Collège Jean Moulin" in html
    assert "Tom AUTRE" not in html
    assert "Zoé" not in html  # level 3 (person to contact) is not a legal representative
    assert "Parent / responsable légal" in html
    assert "Collège des Exemples" in html
    assert reverse("admin:index") not in html


def test_pupil_sees_their_class(client, pupil):
    log_in(client, pupil.username)
    html = home_html(client)
    assert "Ma classe" in html and "6e A" in html
    assert "Mes enfants" not in html


def test_teacher_sees_this_year_s_classes(client, teacher, etab, division):
    maths = Subject.objects.create(code="061300", label="Mathématiques")
    latin = Group.objects.create(etablissement=etab, year=2026, code="LAT5", label="Latin 5e")
    old = Division.objects.create(etablissement=etab, year=2025, code="6Z", label="6e Z (2025)")
    Teaching.objects.create(teacher=teacher.person, etablissement=etab, division=division, subject=maths)
    Teaching.objects.create(teacher=teacher.person, etablissement=etab, group=latin)
    Teaching.objects.create(teacher=teacher.person, etablissement=etab, division=old, subject=maths)
    log_in(client, teacher.username)
    html = home_html(client)
    assert "Mes classes" in html
    assert "6e A" in html and "Mathématiques" in html
    assert "Latin 5e" in html
    assert "6e Z" not in html


def test_console_staff_get_a_console_link(client, secretary):
    log_in(client, secretary.username)
    assert reverse("admin:index") in home_html(client)


def test_unactivated_account_sees_the_banner(client, parent):
    # Provisional credentials never log in (they start the activation), so this session comes
    # from elsewhere (a console superuser's test login, say): the home page still says it.
    parent.activated_at = None
    parent.credentials_issued_at = timezone.now() - datetime.timedelta(days=1)
    parent.save()
    client.force_login(parent)
    html = home_html(client)
    assert "Votre compte n'est pas encore activé" in html
    assert reverse("portal:activate") in html


def test_activated_account_has_no_banner(client, parent):
    log_in(client, parent.username)
    assert "pas encore activé" not in home_html(client)


def test_navigation_and_logout_button(client, parent):
    log_in(client, parent.username)
    html = home_html(client)
    assert 'aria-label="Navigation principale"' in html
    assert 'aria-current="page">Accueil' in html
    assert ">Aide<" in html
    assert 'action="/deconnexion/"' in html and "Se déconnecter" in html
