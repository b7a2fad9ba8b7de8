"""Mon compte, Enfants: a parent sees the pupils they are responsible for, and only those."""

from django.urls import reverse

from cartable.conftest import make_user
from cartable.directory.models import Division, Guardianship, Profile

CHILDREN = reverse("myaccount:children")


def test_parent_sees_only_own_children_with_class_and_school(client, parent, pupil, etab, other_etab):
    # A second child, in another collège, for whom the parent is "personne en charge" (level 2).
    division = Division.objects.create(etablissement=other_etab, year=2026, code="4B", label="4e B")
    brother = make_user("hugo.exemple", Profile.ELEVE, other_etab, first_name="Hugo", last_name="EXEMPLE", division=division)
    Guardianship.objects.create(pupil=brother.person, guardian=parent.person, etablissement=other_etab, level=2)
    # A level 3 link (person to contact) is not a child of the account.
    cousin = make_user("ines.cousin", Profile.ELEVE, etab, first_name="Inès", last_name="COUSIN")
    Guardianship.objects.create(pupil=cousin.person, guardian=parent.person, etablissement=etab, level=3)
    # Another family.
    other_parent = make_user("marc.autre", Profile.RESPONSABLE, etab, first_name="Marc", last_name="AUTRE")
    stranger = make_user("zoe.autre", Profile.ELEVE, etab, first_name="Zoé", last_name="AUTRE")
    Guardianship.objects.create(pupil=stranger.person, guardian=other_parent.person, etablissement=etab, level=1)

    client.force_login(parent)
    html = client.get(CHILDREN).content.decode()
    assert "Léa EXEMPLE" in html and "Classe 6e A" in html and "Collège des Exemples" in html
    assert "Représentant légal" in html
    assert "Hugo EXEMPLE" in html and "Classe 4e B" in html and "Collège Jean Moulin" in html
    assert "Personne en charge de l" in html
    assert "Inès COUSIN" not in html and "Zoé AUTRE" not in html

    client.force_login(other_parent)
    html = client.get(CHILDREN).content.decode()
    assert "Zoé AUTRE" in html and "Léa EXEMPLE" not in html and "Hugo EXEMPLE" not in html


def test_no_children_tab_for_a_pupil_or_a_teacher(client, pupil, teacher):
    for user in (pupil, teacher):
        client.force_login(user)
        html = client.get(reverse("myaccount:profile")).content.decode()
        assert f'href="{CHILDREN}"' not in html
        assert "Aucun enfant" in client.get(CHILDREN).content.decode()
